"""Reference values for Tests/NNTests/OptimizerTests.swift, computed with PyTorch's optimizers.

Run from the package root with PyTorch 2.13 and numpy installed:

    /work/torchenv/bin/python Tests/References/optimizers.py > Tests/NNTests/OptimizerReferences.swift

The model is three parameters laid out in one flat buffer as dtrain lays them out: a weight [2, 3] at offset 0, a
bias [3] at offset 6 and a normalization scale [2] at offset 9. Every case runs six steps on the same initial
values and gradients with its own per-step learning rates; the case's hyperparameters are repeated in the Swift
test's table of optimizers, which must stay in step with CASES below. Exemption from weight decay is expressed in
PyTorch as a second parameter group with weight_decay 0. LARS is not in PyTorch: it is computed here with numpy
from the formula in LARS.swift's doc comment.

Hyperparameters that dtrain takes as Float (learning rate, momentum, weight decay, eps) are rounded to float32
before PyTorch sees them, so both sides start from identical numbers and any difference is arithmetic rounding
alone. Adam's betas and RMSprop's alpha stay Python floats: dtrain takes them as Double, as PyTorch uses them.
"""
import numpy as np
import torch

SHAPES = [("weight", (2, 3)), ("bias", (3,)), ("norm", (2,))]
COUNT = 11
STEPS = 6


def f32(x):
    return float(np.float32(x))


rng = np.random.default_rng(20240611)
INITIAL = np.concatenate([rng.normal(0, 0.8, 6), np.zeros(3), 1 + rng.normal(0, 0.1, 2)]).astype(np.float32)
GRADIENTS = rng.normal(0, 0.5, (STEPS, COUNT)).astype(np.float32)
# A zero gradient for the normalization scale exercises LARS's rule for a zero gradient norm.
GRADIENTS[2, 9:] = 0

SGD_RATES = [0.1, 0.1, 0.05, 0.05, 0.02, 0.02]
ADAPTIVE_RATES = [0.01, 0.01, 0.005, 0.005, 0.002, 0.002]
LARS_RATES = [1.0, 1.0, 0.5, 0.5, 0.2, 0.2]

# name: (torch class or "lars", keyword arguments, exempt bias and normalization, learning rates)
CASES = {
    "sgd": (torch.optim.SGD, {}, False, SGD_RATES),
    "sgdMomentum": (torch.optim.SGD, {"momentum": 0.9}, False, SGD_RATES),
    "sgdNesterov": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}, False, SGD_RATES),
    "sgdWeightDecay": (torch.optim.SGD, {"momentum": 0.9, "weight_decay": 0.1}, False, SGD_RATES),
    "sgdWeightDecayExempt": (torch.optim.SGD, {"momentum": 0.9, "weight_decay": 0.1}, True, SGD_RATES),
    "adaGrad": (torch.optim.Adagrad, {}, False, SGD_RATES),
    "adaGradOptions": (torch.optim.Adagrad,
                       {"lr_decay": 0.1, "initial_accumulator_value": 0.1, "weight_decay": 0.1}, True, SGD_RATES),
    "rmsProp": (torch.optim.RMSprop, {}, False, ADAPTIVE_RATES),
    "rmsPropOptions": (torch.optim.RMSprop,
                       {"alpha": 0.9, "momentum": 0.9, "centered": True, "weight_decay": 0.1}, True, ADAPTIVE_RATES),
    "adam": (torch.optim.Adam, {}, False, ADAPTIVE_RATES),
    "adamWeightDecay": (torch.optim.Adam, {"weight_decay": 0.1}, False, ADAPTIVE_RATES),
    "adamWeightDecayExempt": (torch.optim.Adam, {"weight_decay": 0.1}, True, ADAPTIVE_RATES),
    "adamW": (torch.optim.AdamW, {}, False, ADAPTIVE_RATES),
    "adamWExempt": (torch.optim.AdamW, {"weight_decay": 0.1}, True, ADAPTIVE_RATES),
    "lars": ("lars", {"eta": 0.02, "momentum": 0.9, "weight_decay": 0.01}, False, LARS_RATES),
    "larsExempt": ("lars", {"eta": 0.02, "momentum": 0.9, "weight_decay": 0.01}, True, LARS_RATES),
}


def split(flat):
    out, offset = [], 0
    for _, shape in SHAPES:
        n = int(np.prod(shape))
        out.append(flat[offset:offset + n].reshape(shape))
        offset += n
    return out


def run_torch(cls, kwargs, exempt, rates):
    kwargs = {k: v if k in ("alpha", "betas") or not isinstance(v, float) else f32(v) for k, v in kwargs.items()}
    params = [torch.nn.Parameter(torch.tensor(p.copy())) for p in split(INITIAL)]
    if exempt:
        groups = [{"params": params[:1]}, {"params": params[1:], "weight_decay": 0.0}]
    else:
        groups = [{"params": params}]
    optimizer = cls(groups, lr=f32(rates[0]), foreach=False, **kwargs)
    history = []
    for step in range(STEPS):
        for group in optimizer.param_groups:
            group["lr"] = f32(rates[step])
        for p, g in zip(params, split(GRADIENTS[step])):
            p.grad = torch.tensor(g.copy())
        optimizer.step()
        history.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    names = sorted({k for p in params for k in optimizer.state[p] if k != "step"})
    state = {k: np.concatenate([optimizer.state[p][k].numpy().ravel() for p in params]) for k in names}
    return history, state


def run_lars(kwargs, exempt, rates):
    eta, m, wd = (np.float32(kwargs[k]) for k in ("eta", "momentum", "weight_decay"))
    p = INITIAL.copy()
    v = np.zeros(COUNT, np.float32)
    history = []
    bounds = [(0, 6, True), (6, 9, not exempt), (9, 11, not exempt)]
    for step in range(STEPS):
        lr = np.float32(rates[step])
        g = GRADIENTS[step]
        new_p = p.copy()
        for lo, hi, adapts in bounds:
            w, gs = p[lo:hi], g[lo:hi]
            trust, decay = np.float32(1), np.float32(wd if adapts else 0)
            if adapts:
                wn = np.float32(np.linalg.norm(w.astype(np.float64)))
                gn = np.float32(np.linalg.norm(gs.astype(np.float64)))
                if wn > 0 and gn > 0:
                    trust = eta * wn / (gn + wd * wn)
            v[lo:hi] = m * v[lo:hi] + (lr * trust) * (gs + decay * w)
            new_p[lo:hi] = w - v[lo:hi]
        p = new_p
        history.append(p.copy())
    return history, {"momentum_buffer": v}


def swift_floats(values):
    return "[" + ", ".join(str(np.float32(x)) for x in values) + "]"


def main():
    torch.set_default_dtype(torch.float32)
    print("// Generated by Tests/References/optimizers.py with PyTorch " + torch.__version__.split("+")[0]
          + "; do not edit.")
    print("// Regenerate: /work/torchenv/bin/python Tests/References/optimizers.py"
          " > Tests/NNTests/OptimizerReferences.swift")
    print()
    print("/// Reference runs of the optimizers on a three-parameter model, from PyTorch (LARS from numpy).")
    print("enum OptimizerReferences {")
    print("    /// The flat parameter buffer before the first step.")
    print(f"    static let initialParameters: [Float] = {swift_floats(INITIAL)}")
    print()
    print("    /// The flat gradient buffer of each step.")
    print("    static let gradients: [[Float]] = [")
    for g in GRADIENTS:
        print(f"        {swift_floats(g)},")
    print("    ]")
    print()
    print("    /// Each case's learning rates, parameters after every step, and state buffers after the last step.")
    print("    static let cases: [String: OptimizerReference] = [")
    for name, (cls, kwargs, exempt, rates) in CASES.items():
        history, state = run_lars(kwargs, exempt, rates) if cls == "lars" else run_torch(cls, kwargs, exempt, rates)
        print(f"        \"{name}\": OptimizerReference(")
        print(f"            learningRates: {swift_floats(rates)},")
        print("            parameters: [")
        for p in history:
            print(f"                {swift_floats(p)},")
        print("            ],")
        if not state:
            print("            state: [:]),")
            continue
        print("            state: [")
        for key, values in state.items():
            print(f"                \"{key}\": {swift_floats(values)},")
        print("            ]),")
    print("    ]")
    print("}")


if __name__ == "__main__":
    main()
