import Foundation

/// What the running CPU reports of itself in /proc/cpuinfo (empty elsewhere): the kernels pick their register
/// tiles by it, and the BLAS kernel choice its candidates.
public enum CPUFeatures {
    /// The fields of the first processor in /proc/cpuinfo ("model name", "vendor_id", "flags", ...).
    public static let fields: [String: String] = {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [:] }
        var fields: [String: String] = [:]
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }()

    /// The instruction-set flags ("avx2", "avx512f", ...).
    public static let flags = Set((fields["flags"] ?? "").split(separator: " ").map(String.init))

    /// AVX-512: 32 vector registers of 16 floats, against 16 registers of 8 with AVX2.
    public static let hasAVX512 = flags.contains("avx512f")
}
