/// What each config key means, for the config reference; the loader's own answers give everything else about it
/// (ConfigReference). Every key of the loader's schema has an entry here, which a test checks.
enum ConfigKeyMeanings {
    static let all: [String: String] = [
        "run.name": "The run's name; the output directory defaults to runs/<name>.",
        "run.seed": "The seed of every random draw: initialisation, sampling order, augmentation, dropout.",
        "run.epochs": "Passes over the training set.",
        "run.max_steps": "Stop after this many optimizer steps, before the epochs are done.",
        "run.out_dir": "Where logs, metrics.jsonl, tensorboard/, checkpoints/ and model.h5 go (default runs/<name>).",

        "data.train": "The training set: a dtrain HDF5 file (datasets/README.md).",
        "data.val": "The validation set, evaluated after every epoch; none means no evaluation.",
        "data.global_batch": "Samples per optimizer step over all ranks; each of N ranks takes global_batch / N.",
        "data.eval_batch": "Samples per evaluation batch over all ranks (default global_batch).",
        "data.shuffle": "Visit the training set in a fresh order each epoch, drawn from (seed, epoch).",
        "data.cache_mb": "Datasets up to this many MiB are held in memory instead of read from disk.",
        "data.image_size": "The side of the square network input made from encoded images (required for them; decoded images enter at their stored size).",
        "data.resize": "Evaluation resizes the shorter side of encoded images to this before the centre crop (default image_size x 8 / 7: 256 for 224).",
        "data.augment": "Training augmentation: none, crop_flip (decoded images: pad by crop_padding, random crop, flip) or random_resized_crop (encoded images); default random_resized_crop for encoded images, none for decoded ones.",
        "data.crop_padding": "The padding of crop_flip, in pixels.",
        "data.workers": "Threads per rank that decode encoded images.",

        "model.name": "The architecture, from the zoo (mlp, lenet5, resnet20, resnet18, resnet50, alexnet, vgg16) or layers for [[model.layers]] tables.",
        "model.init": "A model file (a run's model.h5, or a PyTorch state_dict converted by launch/from_pytorch.py) the run starts from; a classifier of another size is initialised afresh, and the log says so.",
        "model.hidden": "The MLP's hidden layer widths.",
        "model.activation": "The activation after each hidden layer.",
        "model.pooling": "LeNet-5's subsampling: max or average pooling.",
        "model.dropout": "The dropout probability of the MLP's hidden layers and of AlexNet's and VGG-16's classifier.",
        "model.shortcut": "ResNet-20's shortcut where the shape changes: zero_padding (He et al.'s option A) or projection (a 1x1 convolution).",
        "model.layers": "The layers, in order, as [[model.layers]] tables (below).",

        "optimizer.name": "The update rule, with PyTorch's formulas.",
        "optimizer.lr": "The base learning rate; the schedule may scale it by the global batch and shapes it over time.",
        "optimizer.momentum": "The momentum coefficient.",
        "optimizer.weight_decay": "The weight decay coefficient (L2 for all but adamw, whose decay is decoupled).",
        "optimizer.decay_bias_and_norm": "Whether biases and batch-norm parameters take weight decay too; false exempts them (and LARS then leaves them unadapted).",
        "optimizer.beta1": "Adam's decay rate of the first moment.",
        "optimizer.beta2": "Adam's decay rate of the second moment.",
        "optimizer.eps": "The term added to the denominator for numerical stability.",
        "optimizer.alpha": "RMSProp's smoothing constant.",
        "optimizer.eta": "LARS's trust coefficient.",
        "optimizer.label_smoothing": "The training loss's label smoothing ε: cross-entropy against (1 - ε) on the label plus ε spread evenly over all classes, as PyTorch's CrossEntropyLoss(label_smoothing=ε); evaluation reports the plain loss.",

        "schedule.name": "The decay rule of the learning rate over training.",
        "schedule.warmup_epochs": "Length of the linear warm-up, in epochs (0: none).",
        "schedule.warmup_start_factor": "The fraction of the rate at the first warm-up step.",
        "schedule.step_epochs": "Epochs between decays by gamma.",
        "schedule.milestones": "The epochs at which the rate is multiplied by gamma, increasing.",
        "schedule.gamma": "The factor of each decay.",
        "schedule.min_lr": "The rate cosine annealing ends at (not scaled by scale_lr).",
        "schedule.power": "The exponent of polynomial decay to 0 (1: linear).",
        "schedule.scale_lr": "Scale optimizer.lr by global_batch / reference_batch (Goyal et al.'s linear scaling rule).",
        "schedule.reference_batch": "The global batch at which optimizer.lr is meant, for scale_lr.",

        "checkpoint.every_steps": "Save a checkpoint every this many optimizer steps (checkpoints are also written at the end of every epoch and of the run).",
        "checkpoint.every_minutes": "Save a checkpoint when this many minutes have passed since the last one.",
        "checkpoint.keep": "The number of most recent checkpoints kept on disk.",

        "log.every_steps": "Log loss, accuracy, learning rate, throughput and the time split every this many optimizer steps.",

        "comm.stall_warning_seconds": "Name the late ranks once a collective has waited this long for them.",
        "comm.stall_timeout_seconds": "End the job (exit status 4) once a collective has waited this long; 0 waits forever.",

        "model.layers.type": "The layer.",
        "model.layers.out": "Output features (dense) or channels (conv2d).",
        "model.layers.kernel": "The side of the square kernel or pooling window.",
        "model.layers.stride": "The step between windows (pooling default: the kernel).",
        "model.layers.padding": "Zeros added on every side.",
        "model.layers.bias": "Whether the layer adds a bias.",
        "model.layers.p": "Dropout's probability of zeroing an element.",
    ]
}
