import Foundation
import SwiftProtobuf

/// A TensorBoard event file, `events.out.tfevents.<seconds>.<host>.<pid>` in a folder: scalars and text, each
/// event written (and handed to the system) as it is added, so that a run that dies keeps what it logged.
public final class EventFileWriter {
    /// The file's path.
    public let path: String
    private let handle: FileHandle

    /// Creates the folder if needed and a new event file in it, starting with the file-version event.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let now = Date().timeIntervalSince1970
        let host = ProcessInfo.processInfo.hostName
        path = directory + "/events.out.tfevents.\(Int(now)).\(host).\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
        var event = Tensorboard_Event()
        event.wallTime = now
        event.fileVersion = "brain.Event:2"
        try write(event)
    }

    deinit { try? handle.close() }

    /// Adds the scalars `values` (tag, value) at `step`, in one event.
    public func addScalars(_ values: [(tag: String, value: Float)], step: Int) throws {
        var summary = Tensorboard_Summary()
        summary.value = values.map { tag, value in
            var entry = Tensorboard_Summary.Value()
            entry.tag = tag
            entry.simpleValue = value
            return entry
        }
        try write(summary, step: step)
    }

    /// Adds `text` under `tag` at `step`, for TensorBoard's text dashboard (which renders it as Markdown).
    public func addText(_ text: String, tag: String, step: Int) throws {
        var tensor = Tensorboard_TensorProto()
        tensor.dtype = 7  // DT_STRING
        tensor.tensorShape.dim = [Tensorboard_TensorShapeProto.Dim.with { $0.size = 1 }]
        tensor.stringVal = [Data(text.utf8)]
        var entry = Tensorboard_Summary.Value()
        entry.tag = tag
        entry.metadata.pluginData.pluginName = "text"
        entry.tensor = tensor
        var summary = Tensorboard_Summary()
        summary.value = [entry]
        try write(summary, step: step)
    }

    private func write(_ summary: Tensorboard_Summary, step: Int) throws {
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.step = Int64(step)
        event.summary = summary
        try write(event)
    }

    private func write(_ event: Tensorboard_Event) throws {
        let payload: [UInt8] = try event.serializedBytes()
        try handle.write(contentsOf: TFRecord.frame(payload))
    }
}
