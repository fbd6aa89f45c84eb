import NN

/// One `[[model.layers]]` table: its `type` and keys, read into a `LayerSpec` and written back.
enum LayerTable {
    /// The layer types a table may name.
    enum Kind: String, CaseIterable {
        case dense, conv2d, maxpool, avgpool
        case globalAvgPool = "global_avgpool"
        case flatten, relu, tanh, sigmoid, dropout, batchnorm
    }

    /// Every key any layer type takes.
    static let keys = ["type", "out", "kernel", "stride", "padding", "bias", "p"]

    /// The layer `table` describes; keys its type does not take are errors.
    static func spec(from table: SectionReader) throws(ConfigError) -> LayerSpec {
        var table = table
        guard let kind = try table.choice("type", of: Kind.self) else {
            throw table.missing("type", expected: "a layer type (\(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let spec: LayerSpec
        switch kind {
        case .dense:
            spec = .dense(outFeatures: try required(&table, "out"), bias: try table.boolean("bias") ?? true)
        case .conv2d:
            spec = .conv2d(outChannels: try required(&table, "out"), kernel: try required(&table, "kernel"),
                           stride: try table.integer("stride", atLeast: 1) ?? 1,
                           padding: try table.integer("padding", atLeast: 0) ?? 0,
                           bias: try table.boolean("bias") ?? true)
        case .maxpool, .avgpool:
            let kernel = try required(&table, "kernel")
            // The stride is resolved here (PyTorch's default: the kernel) so the resolved text states it.
            let stride = try table.integer("stride", atLeast: 1) ?? kernel
            let padding = try table.integer("padding", atLeast: 0) ?? 0
            spec = kind == .maxpool ? .maxPool(kernel: kernel, stride: stride, padding: padding)
                : .avgPool(kernel: kernel, stride: stride, padding: padding)
        case .globalAvgPool: spec = .globalAvgPool
        case .flatten: spec = .flatten
        case .relu: spec = .activation(.relu)
        case .tanh: spec = .activation(.tanh)
        case .sigmoid: spec = .activation(.sigmoid)
        case .dropout: spec = .dropout(probability: try table.float("p", .fraction) ?? 0.5)
        case .batchnorm: spec = .batchNorm
        }
        try table.finish(context: "layer type \(kind.rawValue)")
        return spec
    }

    /// Writes `spec` as the next `[[model.layers]]` table, every key with its value.
    static func write(_ spec: LayerSpec, to writer: inout TOMLWriter) {
        writer.arrayTable("model.layers")
        switch spec {
        case .dense(let out, let bias):
            writer.set("type", Kind.dense.rawValue)
            writer.set("out", out)
            writer.set("bias", bias)
        case .conv2d(let out, let kernel, let stride, let padding, let bias):
            writer.set("type", Kind.conv2d.rawValue)
            writer.set("out", out)
            writer.set("kernel", kernel)
            writer.set("stride", stride)
            writer.set("padding", padding)
            writer.set("bias", bias)
        case .maxPool(let kernel, let stride, let padding):
            writePool(.maxpool, kernel: kernel, stride: stride, padding: padding, to: &writer)
        case .avgPool(let kernel, let stride, let padding):
            writePool(.avgpool, kernel: kernel, stride: stride, padding: padding, to: &writer)
        case .globalAvgPool: writer.set("type", Kind.globalAvgPool.rawValue)
        case .flatten: writer.set("type", Kind.flatten.rawValue)
        case .activation(let kind): writer.set("type", kind.rawValue)
        case .dropout(let probability):
            writer.set("type", Kind.dropout.rawValue)
            writer.set("p", probability)
        case .batchNorm: writer.set("type", Kind.batchnorm.rawValue)
        }
    }

    private static func writePool(_ kind: Kind, kernel: Int, stride: Int?, padding: Int, to writer: inout TOMLWriter) {
        writer.set("type", kind.rawValue)
        writer.set("kernel", kernel)
        writer.set("stride", stride ?? kernel)
        writer.set("padding", padding)
    }

    private static func required(_ table: inout SectionReader, _ key: String) throws(ConfigError) -> Int {
        guard let value = try table.integer(key, atLeast: 1) else { throw table.missing(key, expected: "an integer ≥ 1") }
        return value
    }
}
