import Foundation

/// The files of an ImageFolder tree (one folder per class under the root), listed as torchvision's
/// `datasets.ImageFolder` lists them: classes are the root's subfolders in sorted order, and each class's files are
/// found by walking its folder (subfolders included, sorted) and keeping names with an image extension.
public struct ImageFolder: Sendable {
    /// The extensions torchvision counts as images (compared in lower case); of these, JPEG and PNG files decode.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "ppm", "bmp", "pgm", "tif", "tiff", "webp"]

    /// The root folder.
    public let root: String
    /// The class names (the subfolders of the root), sorted.
    public let classNames: [String]
    /// Every image file's path and class index, class by class.
    public let files: [(path: String, label: Int)]

    /// Lists the tree at `root`.
    public init(root: String) throws(DataError) {
        self.root = root
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .io(file: root, reason: "not a folder (expected one subfolder of images per class)")
        }
        let entries: [String]
        do { entries = try manager.contentsOfDirectory(atPath: root) } catch {
            throw .io(file: root, reason: "cannot list the folder (\(error.localizedDescription))")
        }
        classNames = entries.filter { Self.isFolder(root + "/" + $0) }.sorted(by: Self.byteOrder)
        guard !classNames.isEmpty else {
            throw .io(file: root, reason: "holds no class folders (expected one subfolder of images per class)")
        }
        var files: [(path: String, label: Int)] = []
        for (label, name) in classNames.enumerated() {
            let before = files.count
            for path in try Self.walk(root + "/" + name) where Self.imageExtensions.contains(Self.extensionOf(path)) {
                files.append((path, label))
            }
            guard files.count > before else {
                throw .io(file: root + "/" + name, reason: "class folder holds no image files (.jpg, .jpeg, .png)")
            }
        }
        self.files = files
    }

    /// The files under `folder`, as Python's `sorted(os.walk(folder))` with each folder's names sorted visits them.
    private static func walk(_ folder: String) throws(DataError) -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw .io(file: folder, reason: "cannot list the folder (\(error.localizedDescription))")
        }
        var found = names.filter { !isFolder(folder + "/" + $0) }.sorted(by: byteOrder).map { folder + "/" + $0 }
        for sub in names.filter({ isFolder(folder + "/" + $0) }).sorted(by: byteOrder) {
            found += try walk(folder + "/" + sub)
        }
        return found
    }

    private static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func extensionOf(_ path: String) -> String {
        (path as NSString).pathExtension.lowercased()
    }

    /// Python's order of strings for names: by code points, here by UTF-8 bytes (the same order).
    private static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
