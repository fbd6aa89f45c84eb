import CHDF5
import Foundation

/// Process-wide concerns of the HDF5 C library: file locking, its error printing and its error stack.
enum HDF5Library {
    /// The file access properties every file is opened and created with: HDF5 1.10's file locks off.
    ///
    /// dtrain never has two writers of one file (datasets are read-only, checkpoints are written under a temporary
    /// name by rank 0 alone), while the locks make an open fail with EAGAIN as long as any handle of a file just
    /// written is still being released, and fail outright on file systems without lock support (NFS, Lustre).
    /// A property rather than HDF5_USE_FILE_LOCKING: the environment must not be written once threads run, and a
    /// user's HDF5_USE_FILE_LOCKING still takes precedence over the property.
    static let fileAccess: hid_t = {
        let properties = H5Pcreate(dtrain_h5p_file_access())
        H5Pset_file_locking(properties, false, true)
        return properties
    }()

    /// Stops the library from printing its error stack to stderr, so users see only our one-line errors.
    ///
    /// The library is built thread-safe, which makes the automatic printer a per-thread setting: every entry point
    /// calls this (it is cheap) instead of once per process, so calls from a loader thread stay quiet too.
    static func silenceErrorPrinting() {
        H5Eset_auto2(dtrain_h5e_default(), nil, nil)
    }

    /// The most specific message on the calling thread's error stack, or "" when it is empty.
    static func innermostErrorMessage() -> String {
        var message = ""
        withUnsafeMutablePointer(to: &message) { pointer in
            _ = H5Ewalk2(dtrain_h5e_default(), H5E_WALK_UPWARD, { index, record, context in
                // Upward walks start at the innermost record, which names the actual cause.
                guard index == 0, let record, let description = record.pointee.desc, let context else { return 0 }
                context.assumingMemoryBound(to: String.self).pointee = String(cString: description)
                return 0
            }, pointer)
        }
        return oneLine(message)
    }

    /// A message of the library as one line. The file driver's reports of a failed system call ("file write failed:
    /// time = ..., filename = ..., errno = 28, error message = 'No space left on device', buf = ...", over two
    /// lines) are shortened to what failed and why.
    private static func oneLine(_ message: String) -> String {
        if let start = message.range(of: "error message = '"),
           let end = message[start.upperBound...].firstIndex(of: "'") {
            return "\(message.prefix { $0 != ":" }): \(message[start.upperBound..<end])"
        }
        return message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
