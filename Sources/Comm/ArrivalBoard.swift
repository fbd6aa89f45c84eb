import CMPI

/// Which ranks have reached which collective: each rank tells every other one, with a message of its own, the
/// number of every collective it enters, so that a rank waiting in collective k can name the ranks that have not
/// reached k yet.
///
/// The notices travel on a duplicate of the world communicator, so they never mix with the collectives; they are
/// 8-byte messages, which MPI sends eagerly: a notice to a stopped or stalled rank completes without it. Every
/// peer has one receive posted at all times, drained at every collective, so nothing piles up in MPI's queues.
/// Costs per collective: one send and one test per peer. Not thread-safe: the communicator calls it under its lock.
final class ArrivalBoard {
    /// Sends to one peer may be outstanding for this many collectives before a slot is reused.
    private static let sendSlots = 4
    private static let tag: Int32 = 1

    private let rank: Int, size: Int
    private var channel: MPI_Comm?
    /// The newest collective each rank is known to have entered (this rank's own entry is kept current too).
    private var reached: [Int64]
    private let receiveValues: UnsafeMutablePointer<Int64>
    private let receiveRequests: UnsafeMutablePointer<MPI_Request?>
    private let sendValues: UnsafeMutablePointer<Int64>
    private let sendRequests: UnsafeMutablePointer<MPI_Request?>
    private var closed = false

    /// Duplicates `world` (a collective) and posts a receive from every other rank.
    init?(world: MPI_Comm, rank: Int, size: Int) {
        var duplicate = dtrain_mpi_comm_null()
        guard MPI_Comm_dup(world, &duplicate) == MPI_SUCCESS else { return nil }
        MPI_Comm_set_errhandler(duplicate, dtrain_mpi_errors_return())
        (self.rank, self.size, channel) = (rank, size, duplicate)
        reached = Array(repeating: 0, count: size)
        receiveValues = .allocate(capacity: size)
        receiveValues.initialize(repeating: 0, count: size)
        receiveRequests = .allocate(capacity: size)
        receiveRequests.initialize(repeating: dtrain_mpi_request_null(), count: size)
        sendValues = .allocate(capacity: size * Self.sendSlots)
        sendValues.initialize(repeating: 0, count: size * Self.sendSlots)
        sendRequests = .allocate(capacity: size * Self.sendSlots)
        sendRequests.initialize(repeating: dtrain_mpi_request_null(), count: size * Self.sendSlots)
        for peer in 0..<size where peer != rank { postReceive(from: peer) }
    }

    deinit {
        receiveValues.deallocate()
        receiveRequests.deallocate()
        sendValues.deallocate()
        sendRequests.deallocate()
    }

    /// Tells every other rank that this one has entered collective `sequence`.
    func announce(_ sequence: Int64) {
        reached[rank] = sequence
        let slot = Int(sequence % Int64(Self.sendSlots))
        for peer in 0..<size where peer != rank {
            let index = peer * Self.sendSlots + slot
            // The send of four collectives ago; eager, so long complete, but its buffer is reused only after.
            MPI_Wait(sendRequests + index, dtrain_mpi_status_ignore())
            sendValues[index] = sequence
            MPI_Isend(sendValues + index, 1, dtrain_mpi_int64(), Int32(peer), Self.tag, channel, sendRequests + index)
        }
    }

    /// Takes in every notice that has arrived.
    func collect() {
        for peer in 0..<size where peer != rank {
            var done: Int32 = 0
            while MPI_Test(receiveRequests + peer, &done, dtrain_mpi_status_ignore()) == MPI_SUCCESS, done != 0 {
                reached[peer] = max(reached[peer], receiveValues[peer])
                postReceive(from: peer)
            }
        }
    }

    /// The ranks not yet known to have entered collective `sequence`, in rank order.
    func late(for sequence: Int64) -> [Int] {
        (0..<size).filter { reached[$0] < sequence }
    }

    /// Cancels the posted receives and completes the sends, so that MPI_Finalize finds nothing in flight.
    func close() {
        guard !closed else { return }
        closed = true
        for peer in 0..<size where peer != rank {
            MPI_Cancel(receiveRequests + peer)
            MPI_Wait(receiveRequests + peer, dtrain_mpi_status_ignore())
        }
        for index in 0..<(size * Self.sendSlots) { MPI_Wait(sendRequests + index, dtrain_mpi_status_ignore()) }
        MPI_Comm_free(&channel)
    }

    private func postReceive(from peer: Int) {
        MPI_Irecv(receiveValues + peer, 1, dtrain_mpi_int64(), Int32(peer), Self.tag, channel, receiveRequests + peer)
    }
}
