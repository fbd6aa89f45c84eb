/// The named architectures dtrain can build, each as a graph whose parameter names follow torchvision.
public enum ModelZoo {
    /// How LeNet-5 and the MLP pool or activate, chosen by option.
    public enum Pooling: String, Sendable, CaseIterable {
        case max, average
    }

    /// How a CIFAR ResNet's shortcut changes width: zero padding (He et al.'s option A) or 1x1 projections (B).
    public enum Shortcut: String, Sendable, CaseIterable {
        case zeroPadding = "zero_padding", projection
    }
}
