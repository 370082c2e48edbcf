//! Requirement IDs and decision options, generated from `spec/v1.yaml`,
//! `spec/v2.yaml` and `spec/decisions.yaml`: do not edit. After changing
//! the YAML, run `VFIO_MIG_REGENERATE=1 cargo test -p vfio-mig-spec --test
//! generated`; without it that test fails while this file is out of date.
#![allow(missing_docs)]

use crate::{Level, OptionSet, ProtocolName, Req};

/// `V1-STATE-001` (MUST): device_state encodes the state in three bits: RUNNING = 1<<0, SAVING = 1<<1, RESUMING = 1<<2, masked by VFIO_DEVICE_STATE_MASK = 0b111. STOP has no bit of its own: it is the value 0 (RUNNING clear), so a stopped device reads back 000b in the masked bits, never 001b.
pub const V1_STATE_001: Req = Req::new("V1-STATE-001", Level::Must);
/// `V1-STATE-002` (MUST): Right after the device is opened, and before the user has written device_state, a read of device_state reports RUNNING (001b in the masked bits).
pub const V1_STATE_002: Req = Req::new("V1-STATE-002", Level::Must);
/// `V1-STATE-003` (MUST): The eight masked values mean: 000b stopped; 001b running; 010b stop-and-copy (stopped, saving); 011b pre-copy (running, saving); 100b resuming (stopped, loading); 110b the error state; 101b and 111b are invalid and name no state at all.
pub const V1_STATE_003: Req = Req::new("V1-STATE-003", Level::Must);
/// `V1-STATE-004` (MUST): Validity follows VFIO_DEVICE_STATE_VALID(): a value with RESUMING set is valid only when its masked bits are exactly 100b; a value without RESUMING is always valid. So 000b, 001b, 010b, 011b and 100b are valid and 101b, 110b and 111b are not. Subtlety: the error value 110b fails the macro although a device can be in it; it is recognised with VFIO_DEVICE_STATE_IS_ERROR(), is produced by VFIO_DEVICE_STATE_SET_ERROR(), and is never a valid request.
pub const V1_STATE_004: Req = Req::new("V1-STATE-004", Level::Must);
/// `V1-STATE-005` (SHOULD): Bits 3 to 31 of device_state are reserved. The user changes state by read-modify-write, keeping whatever the reserved bits held; the device decides on a write from the masked bits alone, so reserved bits neither change the meaning of a request nor cause its refusal.
pub const V1_STATE_005: Req = Req::new("V1-STATE-005", Level::Should);
/// `V1-LAYOUT-001` (MUST): Offset 0 of the migration region holds struct vfio_device_migration_info, 32 bytes long: u32 device_state at 0, u32 reserved at 4, u64 pending_bytes at 8, u64 data_offset at 16 and u64 data_size at 24.
pub const V1_LAYOUT_001: Req = Req::new("V1-LAYOUT-001", Level::Must);
/// `V1-LAYOUT-002` (MUST): device_state and data_size accept reads and writes. pending_bytes and data_offset are read-only: a write to either fails with an errno and changes nothing. reserved always reads 0, and a write to it succeeds without effect.
pub const V1_LAYOUT_002: Req = Req::new("V1-LAYOUT-002", Level::Must);
/// `V1-LAYOUT-003` (SHOULD): Each header field is accessed only with its own width at its own offset (4 bytes for device_state and reserved, 8 bytes for the u64 fields). A narrower, wider or straddling access to the header fails with an errno and has no effect.
pub const V1_LAYOUT_003: Req = Req::new("V1-LAYOUT-003", Level::Should);
/// `V1-LAYOUT-004` (MUST): The data section lies after the header: every data_offset the device reports is at least 32 (in particular never 0), and data_offset + data_size never exceeds the region size reported by VFIO_DEVICE_GET_REGION_INFO.
pub const V1_LAYOUT_004: Req = Req::new("V1-LAYOUT-004", Level::Must);
/// `V1-LAYOUT-005` (MUST): If the region advertises an mmappable data section (sparse mmap capability), every data_offset the device reports is a multiple of the page size. Using mmap is optional: a user that moves the data with read and write on the device fd must get the same bytes.
pub const V1_LAYOUT_005: Req = Req::new("V1-LAYOUT-005", Level::Must);
/// `V1-LAYOUT-006` (MUST): The device exposes the migration region as a region with type VFIO_REGION_TYPE_MIGRATION (3) and subtype VFIO_REGION_SUBTYPE_MIGRATION (1) in its region info capability chain.
pub const V1_LAYOUT_006: Req = Req::new("V1-LAYOUT-006", Level::Must);
/// `V1-ARC-001` (MUST): Writing STOP (000b) while RUNNING succeeds and the device stops (normal shutdown). The driver may not depend on this step: a user that closes the device while RUNNING is equally correct.
pub const V1_ARC_001: Req = Req::new("V1-ARC-001", Level::Must);
/// `V1-ARC-002` (MUST): Writing stop-and-copy (010b) while RUNNING succeeds: the device stops and its state becomes readable through the save loop (saving or suspending without a pre-copy phase).
pub const V1_ARC_002: Req = Req::new("V1-ARC-002", Level::Must);
/// `V1-ARC-003` (MUST): Writing STOP (000b) while in stop-and-copy succeeds, whether or not the user has read all the saved data; this ends the save.
pub const V1_ARC_003: Req = Req::new("V1-ARC-003", Level::Must);
/// `V1-ARC-004` (MUST): Writing pre-copy (011b) while RUNNING succeeds and the device keeps running, and writing stop-and-copy (010b) while in pre-copy succeeds. A driver that has nothing to send before stop-and-copy still accepts pre-copy.
pub const V1_ARC_004: Req = Req::new("V1-ARC-004", Level::Must);
/// `V1-ARC-005` (MUST): The move from pre-copy to stop-and-copy succeeds whatever pending_bytes last reported, even in the middle of a chunk; in general no state change requires the user to have drained the data first.
pub const V1_ARC_005: Req = Req::new("V1-ARC-005", Level::Must);
/// `V1-ARC-006` (MUST): Writing RESUMING (100b) while RUNNING succeeds and opens the resume loop; after a complete stream has been written, writing RUNNING (001b) succeeds and the device runs with the loaded state.
pub const V1_ARC_006: Req = Req::new("V1-ARC-006", Level::Must);
/// `V1-ARC-007` (SHOULD): From any valid state other than the error state the user may write any other valid state. The driver either performs it (the write succeeds) or refuses it with an errno and keeps its current state. Writing STOP (000b) from any valid state should succeed.
pub const V1_ARC_007: Req = Req::new("V1-ARC-007", Level::Should);
/// `V1-ARC-008` (MUST): A device_state write whose masked bits are 101b or 111b fails with an errno, and the next read reports the state the device was in before.
pub const V1_ARC_008: Req = Req::new("V1-ARC-008", Level::Must);
/// `V1-ARC-009` (SHOULD): A device_state write of the error value 110b by the user fails with an errno, and the next read reports the state the device was in before: only the driver puts a device into the error state.
pub const V1_ARC_009: Req = Req::new("V1-ARC-009", Level::Should);
/// `V1-ARC-010` (SHOULD): Writing the state the device is already in succeeds and has no effect: the state, and any save or resume loop in progress, stay as they were.
pub const V1_ARC_010: Req = Req::new("V1-ARC-010", Level::Should);
/// `V1-FAIL-001` (MUST): When a device_state write fails, a read of device_state that follows reports the state the device had before the write, or the error state 110b when the driver met an internal error. No other value is allowed.
pub const V1_FAIL_001: Req = Req::new("V1-FAIL-001", Level::Must);
/// `V1-FAIL-002` (MUST): While device_state reads 110b, every device_state write fails with an errno and the state stays 110b; the save and resume registers fail or read 0. Only VFIO_DEVICE_RESET takes the device out of the error state.
pub const V1_FAIL_002: Req = Req::new("V1-FAIL-002", Level::Must);
/// `V1-FAIL-003` (MUST): VFIO_DEVICE_RESET succeeds from every state, the error state included, and leaves the device RUNNING (001b) and usable as after open, with no save or resume loop in progress.
pub const V1_FAIL_003: Req = Req::new("V1-FAIL-003", Level::Must);
/// `V1-FAIL-004` (MUST): A device_state write returns success only once the transition is complete (a device told to stop has stopped); the next read of device_state reports the written state.
pub const V1_FAIL_004: Req = Req::new("V1-FAIL-004", Level::Must);
/// `V1-FAIL-005` (MAY): After a failed write the interface only reports the state through device_state; it does not dictate the next step. From a valid state the user may go back to RUNNING, request another valid state, reset the device or give up, and the device must not assume any one of these.
pub const V1_FAIL_005: Req = Req::new("V1-FAIL-005", Level::May);
/// `V1-SAVE-001` (MUST): In pre-copy or stop-and-copy, a read of pending_bytes succeeds and opens an iteration, reporting how many bytes the driver still has to send. When it follows a chunk the user has read, it also tells the driver that this chunk has been consumed.
pub const V1_SAVE_001: Req = Req::new("V1-SAVE-001", Level::Must);
/// `V1-SAVE-002` (MUST): Reading pending_bytes several times with no read of data_offset in between returns the same value each time and stages, consumes or discards nothing.
pub const V1_SAVE_002: Req = Req::new("V1-SAVE-002", Level::Must);
/// `V1-SAVE-003` (MUST): After pending_bytes reported a non-zero value, a read of data_offset asks the driver to stage the next chunk; the read returns only when data_size bytes of that chunk are readable at data_offset.
pub const V1_SAVE_003: Req = Req::new("V1-SAVE-003", Level::Must);
/// `V1-SAVE-004` (MUST): While one chunk is staged, further reads of data_offset and data_size return the values of that same chunk; they do not stage another one.
pub const V1_SAVE_004: Req = Req::new("V1-SAVE-004", Level::Must);
/// `V1-SAVE-005` (SHOULD): A chunk staged after pending_bytes reported a non-zero value has a data_size greater than 0, and data_offset + data_size lies within the data section.
pub const V1_SAVE_005: Req = Req::new("V1-SAVE-005", Level::Should);
/// `V1-SAVE-006` (MUST): After reading a chunk the user reads pending_bytes again. If it is still non-zero, the next read of data_offset stages the following chunk, and the loop repeats.
pub const V1_SAVE_006: Req = Req::new("V1-SAVE-006", Level::Must);
/// `V1-SAVE-007` (MUST): In pre-copy a pending_bytes of 0 means there is nothing to read at the moment. It is not an error, the user stops iterating and may move on to stop-and-copy, and it is how a driver without pre-copy data takes part in pre-copy.
pub const V1_SAVE_007: Req = Req::new("V1-SAVE-007", Level::Must);
/// `V1-SAVE-008` (MUST): In stop-and-copy the user keeps iterating until pending_bytes reads 0. At that point every byte of the device state has been delivered, and the bytes read since the save began form the complete stream.
pub const V1_SAVE_008: Req = Req::new("V1-SAVE-008", Level::Must);
/// `V1-SAVE-009` (SHOULD): Within an iteration, reading data_size or reading the data section before data_offset has been read is out of order: the access fails with an errno and no chunk is staged by it.
pub const V1_SAVE_009: Req = Req::new("V1-SAVE-009", Level::Should);
/// `V1-SAVE-010` (SHOULD): Outside pre-copy, stop-and-copy and RESUMING there is no transfer in progress: pending_bytes reads 0 or fails with an errno, and reads of data_offset and data_size, and data section accesses, fail with an errno.
pub const V1_SAVE_010: Req = Req::new("V1-SAVE-010", Level::Should);
/// `V1-RES-001` (MUST): In RESUMING a read of data_offset succeeds and gives the offset in the region at which the user writes the next chunk.
pub const V1_RES_001: Req = Req::new("V1-RES-001", Level::Must);
/// `V1-RES-002` (MUST): The user writes the chunk into the data section starting at data_offset, then writes its length to data_size. That write returns only after the driver has taken in the chunk, and the section may then be reused for the next one.
pub const V1_RES_002: Req = Req::new("V1-RES-002", Level::Must);
/// `V1-RES-003` (MUST): Each chunk is handed back in one resume iteration with exactly the size it had at the source: the user neither splits one source chunk nor merges several. v1 thereby settles the seed's split-or-merge question as indivisible transactions.
pub const V1_RES_003: Req = Req::new("V1-RES-003", Level::Must);
/// `V1-RES-004` (SHOULD): In RESUMING, writing data_size, or writing the data section, before data_offset has been read for this chunk is out of order: the access fails with an errno and nothing is loaded.
pub const V1_RES_004: Req = Req::new("V1-RES-004", Level::Should);
/// `V1-RES-005` (MUST): A stream that is incomplete or corrupt is never taken silently. A data_size write may fail with an errno, and in any case every device_state write that leaves RESUMING fails with an errno, after which device_state reads 100b or 110b. No part of the bad stream reaches a running device, and VFIO_DEVICE_RESET is the way out.
pub const V1_RES_005: Req = Req::new("V1-RES-005", Level::Must);
/// `V1-ERR-001` (MUST): A fault in the save or resume loop, whether a driver error or a user mistake, is reported by making the next read or write of the region fail with an errno; that failure ends the loop.
pub const V1_ERR_001: Req = Req::new("V1-ERR-001", Level::Must);
/// `V1-ERR-002` (SHOULD): EAGAIN and EINTR from a region access mean the same access may be repeated and the transfer goes on. Any other errno ends the save or resume, and the user treats it as failed.
pub const V1_ERR_002: Req = Req::new("V1-ERR-002", Level::Should);
/// `V1-TIME-001` (MUST): Every access to the migration region and VFIO_DEVICE_RESET returns within bounded time; a write of device_state returns once the transition is done or has failed. The suite waits VFIO_MIG_TIMEOUT_MS (10 s by default) for each access; one still running then breaks this rule and leaves the device unusable for the rest of the run.
pub const V1_TIME_001: Req = Req::new("V1-TIME-001", Level::Must);
/// `V1-DATA-001` (MUST): The saved data is opaque: the user interprets none of it and changes none of it, and writes the chunks back in the order they were read.
pub const V1_DATA_001: Req = Req::new("V1-DATA-001", Level::Must);
/// `V1-DATA-002` (MUST): Writing the complete saved stream into a compatible device in RESUMING, then moving it to RUNNING, gives a device whose state equals the source's state at the time it was saved.
pub const V1_DATA_002: Req = Req::new("V1-DATA-002", Level::Must);
/// `V2-STATE-001` (MUST): Every SET and GET uses the numbers of enum vfio_device_mig_state: ERROR 0, STOP 1, RUNNING 2, STOP_COPY 3, RESUMING 4, RUNNING_P2P 5, PRE_COPY 6, PRE_COPY_P2P 7.
pub const V2_STATE_001: Req = Req::new("V2-STATE-001", Level::Must);
/// `V2-STATE-002` (MUST): A GET of VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE issued right after the device is opened, before any SET, reports RUNNING (2).
pub const V2_STATE_002: Req = Req::new("V2-STATE-002", Level::Must);
/// `V2-STATE-003` (MUST): A GET of VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE succeeds, puts the current state in device_state and sets data_fd to -1; it changes nothing.
pub const V2_STATE_003: Req = Req::new("V2-STATE-003", Level::Must);
/// `V2-STATE-004` (MUST): The device never changes state on its own. Two GETs with no SET or VFIO_DEVICE_RESET between them report the same state, whatever happens on the data fd meanwhile.
pub const V2_STATE_004: Req = Req::new("V2-STATE-004", Level::Must);
/// `V2-FLAG-001` (MUST): A GET of VFIO_DEVICE_FEATURE_MIGRATION (feature 1) succeeds and returns the flags with VFIO_MIGRATION_STOP_COPY (1<<0) set. The other defined flags are VFIO_MIGRATION_P2P (1<<1) and VFIO_MIGRATION_PRE_COPY (1<<2).
pub const V2_FLAG_001: Req = Req::new("V2-FLAG-001", Level::Must);
/// `V2-FLAG-002` (MUST): Exactly four flag sets have defined behaviour: STOP_COPY, STOP_COPY|P2P, STOP_COPY|PRE_COPY and STOP_COPY|P2P|PRE_COPY. The model refuses any other value (no STOP_COPY, or unknown bits), and the suite reports such a device as outside the specification.
pub const V2_FLAG_002: Req = Req::new("V2-FLAG-002", Level::Must);
/// `V2-FLAG-003` (MUST): RUNNING and ERROR exist on every migratable device. STOP, STOP_COPY and RESUMING come with STOP_COPY, RUNNING_P2P with P2P, PRE_COPY with PRE_COPY, and PRE_COPY_P2P with P2P and PRE_COPY together. A SET naming a state the flags do not provide fails with EINVAL, and the state does not change.
pub const V2_FLAG_003: Req = Req::new("V2-FLAG-003", Level::Must);
/// `V2-FLAG-004` (SHOULD): VFIO_DEVICE_FEATURE_MIGRATION is read-only. A PROBE naming GET succeeds; a PROBE naming SET, or a SET, fails with EINVAL.
pub const V2_FLAG_004: Req = Req::new("V2-FLAG-004", Level::Should);
/// `V2-ARC-001` (MUST): Every device performs the direct arcs RESUMING->STOP, STOP->RESUMING, STOP->STOP_COPY and STOP_COPY->STOP: a SET of the target from the source state succeeds in one step.
pub const V2_ARC_001: Req = Req::new("V2-ARC-001", Level::Must);
/// `V2-ARC-002` (MUST): A device without P2P performs RUNNING->STOP and STOP->RUNNING as direct arcs.
pub const V2_ARC_002: Req = Req::new("V2-ARC-002", Level::Must);
/// `V2-ARC-003` (MUST): A device with P2P performs RUNNING->RUNNING_P2P, RUNNING_P2P->RUNNING, RUNNING_P2P->STOP and STOP->RUNNING_P2P as direct arcs; RUNNING and STOP are then linked only through RUNNING_P2P.
pub const V2_ARC_003: Req = Req::new("V2-ARC-003", Level::Must);
/// `V2-ARC-004` (MUST): A device with PRE_COPY performs RUNNING->PRE_COPY and PRE_COPY->RUNNING as direct arcs; without P2P it also performs PRE_COPY->STOP_COPY directly.
pub const V2_ARC_004: Req = Req::new("V2-ARC-004", Level::Must);
/// `V2-ARC-005` (MUST): A device with PRE_COPY and P2P performs PRE_COPY->PRE_COPY_P2P, PRE_COPY_P2P->PRE_COPY, PRE_COPY_P2P->RUNNING_P2P, PRE_COPY_P2P->STOP_COPY and RUNNING_P2P->PRE_COPY_P2P as direct arcs. PRE_COPY->STOP_COPY is then a combination that passes through PRE_COPY_P2P.
pub const V2_ARC_005: Req = Req::new("V2-ARC-005", Level::Must);
/// `V2-ARC-006` (MUST): A SET returns only when the device has fully completed the requested transition, combination steps included. A successful SET means a GET issued right after reports the requested state.
pub const V2_ARC_006: Req = Req::new("V2-ARC-006", Level::Must);
/// `V2-ARC-007` (MUST): From STOP_COPY, a SET of PRE_COPY or PRE_COPY_P2P fails with EINVAL; the device stays in STOP_COPY and its saving fd keeps working.
pub const V2_ARC_007: Req = Req::new("V2-ARC-007", Level::Must);
/// `V2-ARC-008` (MUST): ERROR cannot be requested: a SET of ERROR (0) fails with EINVAL from every state, and the state does not change.
pub const V2_ARC_008: Req = Req::new("V2-ARC-008", Level::Must);
/// `V2-ARC-009` (SHOULD): A SET of the state the device is already in succeeds, changes nothing (an open data session stays open) and returns data_fd -1.
pub const V2_ARC_009: Req = Req::new("V2-ARC-009", Level::Should);
/// `V2-ARC-010` (MUST): A SET whose device_state is above 7 fails with EINVAL, and the state does not change.
pub const V2_ARC_010: Req = Req::new("V2-ARC-010", Level::Must);
/// `V2-PATH-001` (MUST): A SET of a supported state that is not one direct arc away is carried out as a sequence of direct arcs the device's flags provide. Among the sequences V2-PATH-002 permits, it takes a shortest one.
pub const V2_PATH_001: Req = Req::new("V2-PATH-001", Level::Must);
/// `V2-PATH-002` (MUST): Saving-group states (PRE_COPY, PRE_COPY_P2P, STOP_COPY) appear on a combination path only at its start or its end. The one exception is a path that never leaves the group (PRE_COPY->PRE_COPY_P2P->STOP_COPY). A path never leaves the group and then re-enters it.
pub const V2_PATH_002: Req = Req::new("V2-PATH-002", Level::Must);
/// `V2-PATH-003` (MUST): Optional states the device lacks are stepped over as if absent. Without PRE_COPY, no arc touches PRE_COPY or PRE_COPY_P2P.
pub const V2_PATH_003: Req = Req::new("V2-PATH-003", Level::Must);
/// `V2-PATH-004` (MUST): For every (from, to) pair of the eight states and every accepted flag set, the next step the model derives equals the answer of the kernel's vfio_mig_get_next_state(), refusals (EINVAL) included.
pub const V2_PATH_004: Req = Req::new("V2-PATH-004", Level::Must);
/// `V2-PATH-005` (MUST): A successful combination SET shows the user only its final state. Interior states of the path can be seen, through a GET, only after the SET failed.
pub const V2_PATH_005: Req = Req::new("V2-PATH-005", Level::Must);
/// `V2-FD-001` (MUST): The arcs that open a data session return a new data_fd (>= 0) from the SET. RUNNING->PRE_COPY, RUNNING_P2P->PRE_COPY_P2P and STOP->STOP_COPY return a saving fd, and STOP->RESUMING returns a resuming fd. A combination returns the fd opened by its last arc.
pub const V2_FD_001: Req = Req::new("V2-FD-001", Level::Must);
/// `V2-FD-002` (MUST): A SET between saving-group states (PRE_COPY, PRE_COPY_P2P, STOP_COPY) keeps the session: the same fd carries on, and the SET returns data_fd -1.
pub const V2_FD_002: Req = Req::new("V2-FD-002", Level::Must);
/// `V2-FD-003` (MUST): Every other successful SET, one that opens no session, returns data_fd -1.
pub const V2_FD_003: Req = Req::new("V2-FD-003", Level::Must);
/// `V2-FD-004` (MUST): Leaving the saving group or RESUMING, or VFIO_DEVICE_RESET, ends the session. Later read, write or VFIO_MIG_GET_PRECOPY_INFO calls on its fd fail with an errno; they never return data, 0 (end of stream) or success.
pub const V2_FD_004: Req = Req::new("V2-FD-004", Level::Must);
/// `V2-FD-005` (MUST): A saving fd is only read from and a resuming fd is only written to. A write on a saving fd, or a read on a resuming fd, fails with an errno.
pub const V2_FD_005: Req = Req::new("V2-FD-005", Level::Must);
/// `V2-FD-006` (MUST): A SET that fails returns data_fd -1 and opens no new fd.
pub const V2_FD_006: Req = Req::new("V2-FD-006", Level::Must);
/// `V2-STREAM-001` (MUST): In STOP_COPY the user reads the saving fd until read returns 0. That end of stream means the device has delivered its whole state, and the bytes read since the session opened form the complete stream.
pub const V2_STREAM_001: Req = Req::new("V2-STREAM-001", Level::Must);
/// `V2-STREAM-002` (SHOULD): Once a read in STOP_COPY has returned 0, every further read on that fd also returns 0.
pub const V2_STREAM_002: Req = Req::new("V2-STREAM-002", Level::Should);
/// `V2-STREAM-003` (MUST): A read on the saving fd may return fewer bytes than requested, but never more; a short read is not the end of the stream, and the user keeps reading.
pub const V2_STREAM_003: Req = Req::new("V2-STREAM-003", Level::Must);
/// `V2-STREAM-004` (MUST): The resuming fd takes the byte stream of one saving fd of a compatible device, pre-copy and stop-copy bytes together, in their original order. Writes may be of any size: byte order counts, the source's read boundaries do not.
pub const V2_STREAM_004: Req = Req::new("V2-STREAM-004", Level::Must);
/// `V2-STREAM-005` (MUST): After one complete, valid stream has been written, a SET of STOP from RESUMING succeeds, and the device has by then loaded and checked the state.
pub const V2_STREAM_005: Req = Req::new("V2-STREAM-005", Level::Must);
/// `V2-STREAM-006` (MUST): Once a write on the resuming fd has failed (the device rejected bytes of the stream), the session cannot load a whole stream: the SET that leaves RESUMING fails with an errno.
pub const V2_STREAM_006: Req = Req::new("V2-STREAM-006", Level::Must);
/// `V2-STREAM-007` (MAY): On STOP->RESUMING the device may reset its internal state to prepare for loading. A resume in progress can be abandoned only with VFIO_DEVICE_RESET.
pub const V2_STREAM_007: Req = Req::new("V2-STREAM-007", Level::May);
/// `V2-STREAM-008` (MUST): After a successful resume of a complete stream, the destination device's state equals the source device's state at the moment its saving session reached the end of stream.
pub const V2_STREAM_008: Req = Req::new("V2-STREAM-008", Level::Must);
/// `V2-STREAM-009` (MUST): A stream that is not one whole saved stream by its length (nothing written, cut short at any point, or bytes of another length) is refused by the SET that leaves RESUMING, with an errno.
pub const V2_STREAM_009: Req = Req::new("V2-STREAM-009", Level::Must);
/// `V2-STREAM-010` (SHOULD): A stream of the saved length whose bytes are corrupted or foreign, every write accepted, should be refused by the SET that leaves RESUMING. A device whose state format carries no redundancy cannot find the damage, so this is a SHOULD by default (DEC-018 should-detect).
pub const V2_STREAM_010: Req = Req::new("V2-STREAM-010", Level::Should);
/// `V2-STREAM-011` (MUST): Under DEC-018 must-detect: a stream of the saved length whose bytes are corrupted or foreign, every write accepted, is refused by the SET that leaves RESUMING, with an errno.
pub const V2_STREAM_011: Req = Req::new("V2-STREAM-011", Level::Must);
/// `V2-STREAM-012` (MUST): When the SET that leaves RESUMING fails, GET then reports RESUMING or ERROR, never a later state of the path, and none of the stream is applied: the device's state is what it was on entering RESUMING.
pub const V2_STREAM_012: Req = Req::new("V2-STREAM-012", Level::Must);
/// `V2-ERR-001` (MUST): After a SET failed, a GET reports the original state, a state on the combination path the SET was carrying out, or ERROR; no state off that path is allowed.
pub const V2_ERR_001: Req = Req::new("V2-ERR-001", Level::Must);
/// `V2-ERR-002` (MUST): VFIO_DEVICE_RESET succeeds from any state, ERROR included, and leaves the device RUNNING with every data session ended. Nothing but a reset leaves ERROR.
pub const V2_ERR_002: Req = Req::new("V2-ERR-002", Level::Must);
/// `V2-ERR-003` (MUST): While the device is in ERROR, every SET fails with EINVAL and a GET keeps reporting ERROR.
pub const V2_ERR_003: Req = Req::new("V2-ERR-003", Level::Must);
/// `V2-ERR-004` (SHOULD): A failed SET leaves the device in ERROR only when the device could neither complete the arc nor get back to a valid state. A refusal the device detects before acting (for example EINVAL for an unsupported target) leaves the state unchanged.
pub const V2_ERR_004: Req = Req::new("V2-ERR-004", Level::Should);
/// `V2-PRE-001` (MUST): A device with PRE_COPY supports VFIO_MIG_GET_PRECOPY_INFO on its saving fd while in PRE_COPY or PRE_COPY_P2P. The ioctl succeeds and fills initial_bytes and dirty_bytes of struct vfio_precopy_info.
pub const V2_PRE_001: Req = Req::new("V2-PRE-001", Level::Must);
/// `V2-PRE-002` (MUST): Outside PRE_COPY and PRE_COPY_P2P, VFIO_MIG_GET_PRECOPY_INFO fails. On a saving fd whose session is still open (the device has moved on to STOP_COPY) it fails with EINVAL; on a resuming fd it fails with an errno.
pub const V2_PRE_002: Req = Req::new("V2-PRE-002", Level::Must);
/// `V2-PRE-003` (SHOULD): Within one pre-copy session initial_bytes never grows; it falls as the initial data is read, and moving to STOP_COPY is advised only once it reaches 0. dirty_bytes starts at 0 and may rise and fall as the running device changes its state.
pub const V2_PRE_003: Req = Req::new("V2-PRE-003", Level::Should);
/// `V2-PRE-004` (MUST): In PRE_COPY or PRE_COPY_P2P, a read of the saving fd when nothing is available for now fails with ENOMSG (a temporary end) instead of returning 0. In STOP_COPY a read never fails with ENOMSG; the end is a return of 0.
pub const V2_PRE_004: Req = Req::new("V2-PRE-004", Level::Must);
/// `V2-PRE-005` (MUST): A SET from PRE_COPY (or PRE_COPY_P2P) to STOP_COPY continues on the same saving fd. The pre-copy bytes and the stop-copy bytes form one stream that the resuming side takes whole.
pub const V2_PRE_005: Req = Req::new("V2-PRE-005", Level::Must);
/// `V2-PRE-006` (MUST): ENOMSG marks only the temporary end of the pre-copy stream, which comes when no initial data is left. Once PRECOPY_INFO has reported initial_bytes N, the reads that follow on that fd deliver at least N bytes before one answers ENOMSG (or, where DEC-013 allows it, 0); a VMM that waits for initial_bytes to reach 0 before leaving PRE_COPY otherwise waits for data that never comes.
pub const V2_PRE_006: Req = Req::new("V2-PRE-006", Level::Must);
/// `V2-PRE-007` (SHOULD): PRECOPY_INFO does not under-count: right after it reported initial_bytes 0 and dirty_bytes 0, a read of that fd with no other call in between answers ENOMSG. Data there means a counter missed it (unless the device changed its state in that instant), and a VMM that trusted the counters left PRE_COPY with data pending, lengthening the downtime.
pub const V2_PRE_007: Req = Req::new("V2-PRE-007", Level::Should);
/// `V2-PRE-008` (MUST): VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 (feature 12) is a SET without payload that opts the device fd in to the second PRECOPY_INFO behaviour. On a device with PRE_COPY the SET, and a PROBE naming SET, succeed; on one without PRE_COPY both fail with EINVAL. A GET fails.
pub const V2_PRE_008: Req = Req::new("V2-PRE-008", Level::Must);
/// `V2-PRE-009` (MUST): Without the PRECOPY_INFOv2 opt-in the flags field of struct vfio_precopy_info is reserved: PRECOPY_INFO hands it back as the user passed it and never reports VFIO_PRECOPY_INFO_REINIT.
pub const V2_PRE_009: Req = Req::new("V2-PRE-009", Level::Must);
/// `V2-PRE-010` (MUST): After the opt-in, flags is an output of PRECOPY_INFO: the device clears it and may set only VFIO_PRECOPY_INFO_REINIT (bit 0). An answer with REINIT announces new initial data: initial_bytes may then take any value, earlier answers notwithstanding, and from that value on falls again as data is read (V2-PRE-003 restarts there); without REINIT initial_bytes does not grow.
pub const V2_PRE_010: Req = Req::new("V2-PRE-010", Level::Must);
/// `V2-PRE-011` (MUST): The PRECOPY_INFOv2 opt-in belongs to one open of the device: it survives VFIO_DEVICE_RESET and state changes, and is forgotten when the device is closed, so that after the device is opened again PRECOPY_INFO hands flags back as passed until the user opts in again.
pub const V2_PRE_011: Req = Req::new("V2-PRE-011", Level::Must);
/// `V2-P2P-001` (MUST): In RUNNING_P2P and PRE_COPY_P2P the device starts no new peer-to-peer DMA, or no DMA at all if it cannot tell P2P apart. Any such DMA already under way has finished by the time the SET into the state returns.
pub const V2_P2P_001: Req = Req::new("V2-P2P-001", Level::Must);
/// `V2-STOP-001` (MUST): In STOP (and STOP_COPY) the device does no DMA, raises no interrupts and changes neither external nor internal state, yet still answers PCI config space and MSI-X accesses. Whatever the user does to the device meanwhile, nothing fails outside the user's context (no host fault).
pub const V2_STOP_001: Req = Req::new("V2-STOP-001", Level::Must);
/// `V2-TIME-001` (MUST): Every call returns within bounded time: a SET of MIG_DEVICE_STATE returns once its whole transition is done or has failed, and a GET, VFIO_DEVICE_RESET, MIG_DATA_SIZE and every read, write and PRECOPY_INFO on a data fd return as well. The suite waits VFIO_MIG_TIMEOUT_MS (10 s by default) for each call; one still running then breaks this rule and leaves the device unusable for the rest of the run.
pub const V2_TIME_001: Req = Req::new("V2-TIME-001", Level::Must);
/// `V2-SIZE-001` (MUST): A GET of VFIO_DEVICE_FEATURE_MIG_DATA_SIZE (feature 9) succeeds in every state and fills stop_copy_length with an estimate, in bytes, of the data a STOP_COPY stream will carry. It is an estimate only, not a bound on the stream.
pub const V2_SIZE_001: Req = Req::new("V2-SIZE-001", Level::Must);
/// `V2-FEAT-001` (MUST): VFIO_DEVICE_FEATURE with both GET and SET and without PROBE fails with EINVAL. A PROBE succeeds only if the feature exists and every access it names (GET, SET) is supported; otherwise it fails.
pub const V2_FEAT_001: Req = Req::new("V2-FEAT-001", Level::Must);
/// `V2-FEAT-002` (MUST): VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE (feature 2) supports GET and SET: a PROBE naming GET, SET or both succeeds.
pub const V2_FEAT_002: Req = Req::new("V2-FEAT-002", Level::Must);
/// `V2-FEAT-003` (MUST): A VFIO_DEVICE_FEATURE request whose argsz does not cover the 8-byte header (argsz and flags), or, for a GET or SET without PROBE, does not cover the feature's payload as well, fails with EINVAL and changes nothing. Flag bits other than the feature number, GET, SET and PROBE fail the same way.
pub const V2_FEAT_003: Req = Req::new("V2-FEAT-003", Level::Must);
/// `V2-FEAT-004` (MUST): A GET, SET or PROBE of a feature number the device does not offer fails (Linux answers ENOTTY from its core when the driver has no handler) and changes nothing; a PROBE with neither GET nor SET of a feature that exists succeeds.
pub const V2_FEAT_004: Req = Req::new("V2-FEAT-004", Level::Must);
/// `V2-CONC-001` (MUST): Calls made at once from several threads on the device and on its data fds take effect one at a time, in an order that keeps every call that returned before another began ahead of it: each outcome is one the device may give for that serial order of the calls (the history is linearizable against the rules of this catalogue).
pub const V2_CONC_001: Req = Req::new("V2-CONC-001", Level::Must);
/// `V2-CONC-002` (MUST): A VFIO_DEVICE_RESET is never lost. It takes effect before it returns or, when a call holding the device's state lock was in progress as it was issued, when that call returns (the deferred reset of the kernel's drivers); once those calls have returned, the device has been reset: every session open before it has ended and a GET reports RUNNING until the next SET.
pub const V2_CONC_002: Req = Req::new("V2-CONC-002", Level::Must);
/// `V2-CONC-003` (MUST): Calls made at once never deadlock: a SET, GET, VFIO_DEVICE_RESET, read, write or PRECOPY_INFO issued while other calls are in progress returns within bounded time, as each would alone (V2-TIME-001).
pub const V2_CONC_003: Req = Req::new("V2-CONC-003", Level::Must);
/// `V2-CONC-004` (MUST): Writes made at once on the resuming fd are taken one after another: every byte a write reports taken follows the bytes taken before it and is part of what the session holds. Bytes reported taken are never lost or overwritten, so when the writes took more bytes than one saved stream, leaving RESUMING fails, and a resume that succeeds loaded one complete, valid stream.
pub const V2_CONC_004: Req = Req::new("V2-CONC-004", Level::Must);
/// `V2-CONC-005` (MUST): A SET carries out its whole combination path as one step for every other caller: a GET, SET or PRECOPY_INFO issued while it is in progress sees the state before it or after it, never a state inside its path (V2-PATH-005 for callers that do not wait for the SET to return).
pub const V2_CONC_005: Req = Req::new("V2-CONC-005", Level::Must);
/// `V2-VU-001` (MUST): Over vfio-user the stream travels in messages, not through a data fd: MIG_DATA_READ is served only in PRE_COPY and STOP_COPY and MIG_DATA_WRITE only in RESUMING; in any other state they fail with EINVAL.
pub const V2_VU_001: Req = Req::new("V2-VU-001", Level::Must);
/// `V2-VU-002` (MUST): A MIG_DATA_READ or MIG_DATA_WRITE asking for more than the max_data_xfer_size the server announced in its VERSION reply fails (EINVAL) instead of being served.
pub const V2_VU_002: Req = Req::new("V2-VU-002", Level::Must);
/// `V2-VU-003` (MUST): A MIG_DATA_READ reply carries at most the bytes asked for; a reply with fewer bytes than asked means the server has no more data for now, which takes the place of the kernel's ENOMSG in PRE_COPY and of the end of the stream in STOP_COPY.
pub const V2_VU_003: Req = Req::new("V2-VU-003", Level::Must);
/// `V2-VU-004` (MUST): Every reply echoes its command's message id and command number; a command the server cannot carry out gets a reply with the error flag and an errno, and the connection stays usable.
pub const V2_VU_004: Req = Req::new("V2-VU-004", Level::Must);
/// `V2-VU-005` (MUST): A message the server cannot take as a command (a header whose message size is smaller than the 16-byte header, a command number the revision does not define, a message larger than any valid one, a header cut short before the connection closes) gets an error reply, the header alone with the Error flag, after which the connection still serves; or the server closes the connection. It never crashes, stops answering, loses the framing of later messages, or serves the message.
pub const V2_VU_005: Req = Req::new("V2-VU-005", Level::Must);
/// `V2-VU-006` (MUST): A request whose argsz leaves no room for the command's fixed reply (DEVICE_GET_INFO below 16, a GET of MIG_DEVICE_STATE below 16, MIG_DATA_READ below 8 + size), or whose payload stops inside the command's fixed fields, is refused with an error reply and changes nothing; the connection still serves (or the server closes it); the server never reads past the message.
pub const V2_VU_006: Req = Req::new("V2-VU-006", Level::Must);
/// `V2-VU-007` (MUST): A DEVICE_FEATURE request the specification does not allow is refused with an error reply and changes nothing: a SET of MIG_DEVICE_STATE without its device_state and data_fd, GET and SET together without PROBE, or a feature index outside the specification's Device Features.
pub const V2_VU_007: Req = Req::new("V2-VU-007", Level::Must);
/// `V2-VU-008` (MUST): File descriptors sent with a command that takes none do not change its outcome (it is served as without them, or refused with an error reply), and the server does not keep them once it has answered.
pub const V2_VU_008: Req = Req::new("V2-VU-008", Level::Must);
/// `V2-VU-009` (MUST): A command with the No_reply flag gets no reply, also when it fails, and is carried out before the reply to any later command is sent.
pub const V2_VU_009: Req = Req::new("V2-VU-009", Level::Must);
/// `V2-VU-010` (MUST): A PROBE of DEVICE_FEATURE succeeds only if every method it names is supported (so a PROBE of a feature outside Device Features fails), and a successful PROBE or SET is answered with the request payload itself; a GET is answered with the request's argsz and flags, the feature's data appended, and argsz grown by its length (16 for MIGRATION).
pub const V2_VU_010: Req = Req::new("V2-VU-010", Level::Must);

/// Every requirement, v1 first, in catalogue order.
pub const ALL: &[Req] = &[
    V1_STATE_001,
    V1_STATE_002,
    V1_STATE_003,
    V1_STATE_004,
    V1_STATE_005,
    V1_LAYOUT_001,
    V1_LAYOUT_002,
    V1_LAYOUT_003,
    V1_LAYOUT_004,
    V1_LAYOUT_005,
    V1_LAYOUT_006,
    V1_ARC_001,
    V1_ARC_002,
    V1_ARC_003,
    V1_ARC_004,
    V1_ARC_005,
    V1_ARC_006,
    V1_ARC_007,
    V1_ARC_008,
    V1_ARC_009,
    V1_ARC_010,
    V1_FAIL_001,
    V1_FAIL_002,
    V1_FAIL_003,
    V1_FAIL_004,
    V1_FAIL_005,
    V1_SAVE_001,
    V1_SAVE_002,
    V1_SAVE_003,
    V1_SAVE_004,
    V1_SAVE_005,
    V1_SAVE_006,
    V1_SAVE_007,
    V1_SAVE_008,
    V1_SAVE_009,
    V1_SAVE_010,
    V1_RES_001,
    V1_RES_002,
    V1_RES_003,
    V1_RES_004,
    V1_RES_005,
    V1_ERR_001,
    V1_ERR_002,
    V1_TIME_001,
    V1_DATA_001,
    V1_DATA_002,
    V2_STATE_001,
    V2_STATE_002,
    V2_STATE_003,
    V2_STATE_004,
    V2_FLAG_001,
    V2_FLAG_002,
    V2_FLAG_003,
    V2_FLAG_004,
    V2_ARC_001,
    V2_ARC_002,
    V2_ARC_003,
    V2_ARC_004,
    V2_ARC_005,
    V2_ARC_006,
    V2_ARC_007,
    V2_ARC_008,
    V2_ARC_009,
    V2_ARC_010,
    V2_PATH_001,
    V2_PATH_002,
    V2_PATH_003,
    V2_PATH_004,
    V2_PATH_005,
    V2_FD_001,
    V2_FD_002,
    V2_FD_003,
    V2_FD_004,
    V2_FD_005,
    V2_FD_006,
    V2_STREAM_001,
    V2_STREAM_002,
    V2_STREAM_003,
    V2_STREAM_004,
    V2_STREAM_005,
    V2_STREAM_006,
    V2_STREAM_007,
    V2_STREAM_008,
    V2_STREAM_009,
    V2_STREAM_010,
    V2_STREAM_011,
    V2_STREAM_012,
    V2_ERR_001,
    V2_ERR_002,
    V2_ERR_003,
    V2_ERR_004,
    V2_PRE_001,
    V2_PRE_002,
    V2_PRE_003,
    V2_PRE_004,
    V2_PRE_005,
    V2_PRE_006,
    V2_PRE_007,
    V2_PRE_008,
    V2_PRE_009,
    V2_PRE_010,
    V2_PRE_011,
    V2_P2P_001,
    V2_STOP_001,
    V2_TIME_001,
    V2_SIZE_001,
    V2_FEAT_001,
    V2_FEAT_002,
    V2_FEAT_003,
    V2_FEAT_004,
    V2_CONC_001,
    V2_CONC_002,
    V2_CONC_003,
    V2_CONC_004,
    V2_CONC_005,
    V2_VU_001,
    V2_VU_002,
    V2_VU_003,
    V2_VU_004,
    V2_VU_005,
    V2_VU_006,
    V2_VU_007,
    V2_VU_008,
    V2_VU_009,
    V2_VU_010,
];

/// The requirement with this ID text, if the catalogue has one.
pub fn lookup(id: &str) -> Option<Req> {
    ALL.iter().copied().find(|r| r.id() == id)
}

/// `DEC-001`: A write of device_state has failed. What does the next read of device_state report?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec001 {
    /// `previous`: always the state the device was in before the failed write (the patch author's answer in the thread)
    Previous,
    /// `previous-or-error`: the state before the write, or the error state 110b when the driver met an internal error (merged in 5.8)
    PreviousOrError,
}

impl OptionSet for Dec001 {
    const ID: &'static str = "DEC-001";
    const ALL: &'static [Self] = &[Self::Previous, Self::PreviousOrError];

    fn key(self) -> &'static str {
        match self {
            Self::Previous => "previous",
            Self::PreviousOrError => "previous-or-error",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::Previous, Self::PreviousOrError],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec001 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::PreviousOrError,
            ProtocolName::V2 => Self::PreviousOrError,
        }
    }
}

/// `DEC-002`: Does v1 have an error state, and how does a device leave it?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec002 {
    /// `error-bit`: a separate bit VFIO_DEVICE_STATE_ERROR = 1<<3 that only the driver sets and that overrides the other bits (floated by the author)
    ErrorBit,
    /// `error-value`: the otherwise unused value 110b, tested with VFIO_DEVICE_STATE_IS_ERROR and set with VFIO_DEVICE_STATE_SET_ERROR; VFIO_DEVICE_RESET is the only way out (merged)
    ErrorValue,
    /// `none`: no error indication; faults show only as errnos on region accesses (the v10 patch)
    None,
}

impl OptionSet for Dec002 {
    const ID: &'static str = "DEC-002";
    const ALL: &'static [Self] = &[Self::ErrorBit, Self::ErrorValue, Self::None];

    fn key(self) -> &'static str {
        match self {
            Self::ErrorBit => "error-bit",
            Self::ErrorValue => "error-value",
            Self::None => "none",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::None, Self::ErrorBit, Self::ErrorValue],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec002 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::ErrorValue,
            ProtocolName::V2 => Self::ErrorValue,
        }
    }
}

/// `DEC-003`: Which v1 transitions must a driver accept? Are invalid transitions listed, or is every valid state reachable from every other?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec003 {
    /// `all-required`: every request from a valid state to another valid state must succeed
    AllRequired,
    /// `driver-chooses`: each driver decides which transitions it supports and may refuse any of them with EINVAL (the author's position)
    DriverChooses,
    /// `flows-required`: the transitions of the documented flows must succeed; any other valid request is either carried out or refused cleanly with an errno and no state change
    FlowsRequired,
}

impl OptionSet for Dec003 {
    const ID: &'static str = "DEC-003";
    const ALL: &'static [Self] = &[Self::AllRequired, Self::DriverChooses, Self::FlowsRequired];

    fn key(self) -> &'static str {
        match self {
            Self::AllRequired => "all-required",
            Self::DriverChooses => "driver-chooses",
            Self::FlowsRequired => "flows-required",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::DriverChooses, Self::FlowsRequired, Self::AllRequired],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec003 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::FlowsRequired,
            ProtocolName::V2 => Self::FlowsRequired,
        }
    }
}

/// `DEC-004`: Which errnos from a migration access mean "try again", and which end the migration?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec004 {
    /// `any-error-fatal`: every errno from a save or resume access ends the transfer
    AnyErrorFatal,
    /// `eagain-retry`: EAGAIN and EINTR mean the same access may be repeated; every other errno ends the transfer
    EagainRetry,
}

impl OptionSet for Dec004 {
    const ID: &'static str = "DEC-004";
    const ALL: &'static [Self] = &[Self::AnyErrorFatal, Self::EagainRetry];

    fn key(self) -> &'static str {
        match self {
            Self::AnyErrorFatal => "any-error-fatal",
            Self::EagainRetry => "eagain-retry",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::AnyErrorFatal, Self::EagainRetry],
            ProtocolName::V2 => &[Self::AnyErrorFatal, Self::EagainRetry],
        }
    }
}

impl Dec004 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::EagainRetry,
            ProtocolName::V2 => Self::EagainRetry,
        }
    }
}

/// `DEC-005`: May the resuming side split or merge the pieces the source produced (v1 chunks, v2 reads)?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec005 {
    /// `byte-stream`: only the order of the bytes matters; writes may have any size
    ByteStream,
    /// `indivisible`: each piece is written back whole, with the size it had at the source
    Indivisible,
}

impl OptionSet for Dec005 {
    const ID: &'static str = "DEC-005";
    const ALL: &'static [Self] = &[Self::ByteStream, Self::Indivisible];

    fn key(self) -> &'static str {
        match self {
            Self::ByteStream => "byte-stream",
            Self::Indivisible => "indivisible",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::Indivisible, Self::ByteStream],
            ProtocolName::V2 => &[Self::ByteStream],
        }
    }
}

impl Dec005 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::Indivisible,
            ProtocolName::V2 => Self::ByteStream,
        }
    }
}

/// `DEC-006`: What is the value of VFIO_DEVICE_STATE_STOP?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec006 {
    /// `equal-running`: STOP defined as 1<<0, the same bit as RUNNING (the v10 patch)
    EqualRunning,
    /// `zero`: STOP is the absence of RUNNING, SAVING and RESUMING (value 0)
    Zero,
}

impl OptionSet for Dec006 {
    const ID: &'static str = "DEC-006";
    const ALL: &'static [Self] = &[Self::EqualRunning, Self::Zero];

    fn key(self) -> &'static str {
        match self {
            Self::EqualRunning => "equal-running",
            Self::Zero => "zero",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::Zero],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec006 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::Zero,
            ProtocolName::V2 => Self::Zero,
        }
    }
}

/// `DEC-007`: Is validity defined by one macro, or by a list of invalid combinations?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec007 {
    /// `invalid-case-list`: named invalid values INVALID_CASE1 = SAVING|RESUMING (110b) and INVALID_CASE2 = RUNNING|RESUMING (101b), as in the v10 patch; 111b is invalid by the macro but not in the list
    InvalidCaseList,
    /// `valid-macro`: one VFIO_DEVICE_STATE_VALID() that accepts a value with RESUMING only when its masked bits are exactly RESUMING
    ValidMacro,
}

impl OptionSet for Dec007 {
    const ID: &'static str = "DEC-007";
    const ALL: &'static [Self] = &[Self::InvalidCaseList, Self::ValidMacro];

    fn key(self) -> &'static str {
        match self {
            Self::InvalidCaseList => "invalid-case-list",
            Self::ValidMacro => "valid-macro",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::ValidMacro],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec007 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::ValidMacro,
            ProtocolName::V2 => Self::ValidMacro,
        }
    }
}

/// `DEC-008`: How does a v1 driver that has no data before stop-and-copy take part in pre-copy?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec008 {
    /// `pending-zero`: it accepts pre-copy and reports pending_bytes 0 until stop-and-copy
    PendingZero,
    /// `refuse-pre-copy`: it may refuse the move to pre-copy (or invent another signal)
    RefusePreCopy,
}

impl OptionSet for Dec008 {
    const ID: &'static str = "DEC-008";
    const ALL: &'static [Self] = &[Self::PendingZero, Self::RefusePreCopy];

    fn key(self) -> &'static str {
        match self {
            Self::PendingZero => "pending-zero",
            Self::RefusePreCopy => "refuse-pre-copy",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::PendingZero, Self::RefusePreCopy],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec008 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::PendingZero,
            ProtocolName::V2 => Self::PendingZero,
        }
    }
}

/// `DEC-009`: What must the user do after a failed transition?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec009 {
    /// `must-return-to-running`: the user sets RUNNING after any failure (the v10 text)
    MustReturnToRunning,
    /// `user-decides`: the interface reports the state; the user chooses to continue, go elsewhere, reset or give up
    UserDecides,
}

impl OptionSet for Dec009 {
    const ID: &'static str = "DEC-009";
    const ALL: &'static [Self] = &[Self::MustReturnToRunning, Self::UserDecides];

    fn key(self) -> &'static str {
        match self {
            Self::MustReturnToRunning => "must-return-to-running",
            Self::UserDecides => "user-decides",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::UserDecides],
            ProtocolName::V2 => &[Self::UserDecides],
        }
    }
}

impl Dec009 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::UserDecides,
            ProtocolName::V2 => Self::UserDecides,
        }
    }
}

/// `DEC-010`: May the user write the v1 error value 110b to device_state?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec010 {
    /// `refuse`: the write fails with an errno and the state does not change
    Refuse,
    /// `undefined`: the driver may refuse it or enter the error state
    Undefined,
}

impl OptionSet for Dec010 {
    const ID: &'static str = "DEC-010";
    const ALL: &'static [Self] = &[Self::Refuse, Self::Undefined];

    fn key(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Undefined => "undefined",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::Refuse, Self::Undefined],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec010 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::Refuse,
            ProtocolName::V2 => Self::Refuse,
        }
    }
}

/// `DEC-011`: In which states may a failed v2 SET leave the device?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec011 {
    /// `any-on-path`: any state of the path, the target included, or ERROR
    AnyOnPath,
    /// `interior-only`: the original state, a state strictly inside the combination path, or ERROR
    InteriorOnly,
}

impl OptionSet for Dec011 {
    const ID: &'static str = "DEC-011";
    const ALL: &'static [Self] = &[Self::AnyOnPath, Self::InteriorOnly];

    fn key(self) -> &'static str {
        match self {
            Self::AnyOnPath => "any-on-path",
            Self::InteriorOnly => "interior-only",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[],
            ProtocolName::V2 => &[Self::InteriorOnly, Self::AnyOnPath],
        }
    }
}

impl Dec011 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::AnyOnPath,
            ProtocolName::V2 => Self::AnyOnPath,
        }
    }
}

/// `DEC-012`: What happens on an out-of-order v1 register access, such as reading data_size before data_offset, or writing data_size before data_offset was read while resuming?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec012 {
    /// `reject`: the access fails with an errno and changes nothing
    Reject,
    /// `undefined`: any answer is allowed
    Undefined,
}

impl OptionSet for Dec012 {
    const ID: &'static str = "DEC-012";
    const ALL: &'static [Self] = &[Self::Reject, Self::Undefined];

    fn key(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::Undefined => "undefined",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::Reject, Self::Undefined],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec012 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::Reject,
            ProtocolName::V2 => Self::Reject,
        }
    }
}

/// `DEC-013`: What does a v2 read return during pre-copy when no data is available for now?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec013 {
    /// `enomsg-only`: read fails with ENOMSG
    EnomsgOnly,
    /// `enomsg-or-zero`: read fails with ENOMSG or returns 0
    EnomsgOrZero,
}

impl OptionSet for Dec013 {
    const ID: &'static str = "DEC-013";
    const ALL: &'static [Self] = &[Self::EnomsgOnly, Self::EnomsgOrZero];

    fn key(self) -> &'static str {
        match self {
            Self::EnomsgOnly => "enomsg-only",
            Self::EnomsgOrZero => "enomsg-or-zero",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[],
            ProtocolName::V2 => &[Self::EnomsgOnly, Self::EnomsgOrZero],
        }
    }
}

impl Dec013 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::EnomsgOnly,
            ProtocolName::V2 => Self::EnomsgOnly,
        }
    }
}

/// `DEC-014`: A source chunk is larger than the destination's data section. May the user split it to fit?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec014 {
    /// `incompatible`: every source chunk must fit whole into the destination's data section; a destination that cannot take one is not compatible with the source and the resume fails
    Incompatible,
    /// `split-to-fit`: the user may cut a chunk into pieces of at most the destination's data section size, and in no other case
    SplitToFit,
}

impl OptionSet for Dec014 {
    const ID: &'static str = "DEC-014";
    const ALL: &'static [Self] = &[Self::Incompatible, Self::SplitToFit];

    fn key(self) -> &'static str {
        match self {
            Self::Incompatible => "incompatible",
            Self::SplitToFit => "split-to-fit",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::Incompatible],
            ProtocolName::V2 => &[Self::SplitToFit],
        }
    }
}

impl Dec014 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::Incompatible,
            ProtocolName::V2 => Self::SplitToFit,
        }
    }
}

/// `DEC-015`: Does a fault in the v1 save or resume loop show in device_state?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec015 {
    /// `driver-may-set-error`: after a loop fault the driver may move device_state to 110b by itself, so the next read reports the error state
    DriverMaySetError,
    /// `write-only`: device_state changes only through user writes and reset; a loop fault is reported by the errno alone, and 110b can appear only as the result of a failed device_state write
    WriteOnly,
}

impl OptionSet for Dec015 {
    const ID: &'static str = "DEC-015";
    const ALL: &'static [Self] = &[Self::DriverMaySetError, Self::WriteOnly];

    fn key(self) -> &'static str {
        match self {
            Self::DriverMaySetError => "driver-may-set-error",
            Self::WriteOnly => "write-only",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::WriteOnly],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec015 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::WriteOnly,
            ProtocolName::V2 => Self::WriteOnly,
        }
    }
}

/// `DEC-016`: How does a v1 driver treat a device_state write that has reserved bits (3 to 31) set?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec016 {
    /// `masked-only`: the driver judges the write by bits 0-2 only; reserved bits neither cause a refusal nor change the meaning
    MaskedOnly,
    /// `refuse-reserved`: the driver refuses any write that sets a reserved bit, with EINVAL
    RefuseReserved,
}

impl OptionSet for Dec016 {
    const ID: &'static str = "DEC-016";
    const ALL: &'static [Self] = &[Self::MaskedOnly, Self::RefuseReserved];

    fn key(self) -> &'static str {
        match self {
            Self::MaskedOnly => "masked-only",
            Self::RefuseReserved => "refuse-reserved",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::MaskedOnly],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec016 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::MaskedOnly,
            ProtocolName::V2 => Self::MaskedOnly,
        }
    }
}

/// `DEC-017`: A fault occurred while resuming, or the stream is incomplete. How does the user get the device out of RESUMING?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec017 {
    /// `leave-after-report`: once the fault has been reported by an errno, a later move out of RESUMING may succeed with the partial data discarded
    LeaveAfterReport,
    /// `reset-only`: every device_state write that leaves RESUMING fails until VFIO_DEVICE_RESET, which is the only way out
    ResetOnly,
}

impl OptionSet for Dec017 {
    const ID: &'static str = "DEC-017";
    const ALL: &'static [Self] = &[Self::LeaveAfterReport, Self::ResetOnly];

    fn key(self) -> &'static str {
        match self {
            Self::LeaveAfterReport => "leave-after-report",
            Self::ResetOnly => "reset-only",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[Self::ResetOnly],
            ProtocolName::V2 => &[],
        }
    }
}

impl Dec017 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::ResetOnly,
            ProtocolName::V2 => Self::ResetOnly,
        }
    }
}

/// `DEC-018`: A stream of the saved length arrives with corrupted or foreign bytes, and the device accepts every write. Must it refuse the resume, or only should it?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dec018 {
    /// `must-detect`: refusing is required (V2-STREAM-011, MUST); accepting fails the device
    MustDetect,
    /// `should-detect`: refusing is recommended (V2-STREAM-010, SHOULD); a device whose state format has no redundancy to check cannot find the damage, and accepting is reported as a warning
    ShouldDetect,
}

impl OptionSet for Dec018 {
    const ID: &'static str = "DEC-018";
    const ALL: &'static [Self] = &[Self::MustDetect, Self::ShouldDetect];

    fn key(self) -> &'static str {
        match self {
            Self::MustDetect => "must-detect",
            Self::ShouldDetect => "should-detect",
        }
    }

    fn model(protocol: ProtocolName) -> &'static [Self] {
        match protocol {
            ProtocolName::V1 => &[],
            ProtocolName::V2 => &[Self::ShouldDetect, Self::MustDetect],
        }
    }
}

impl Dec018 {
    /// The catalogue's default for `protocol`.
    pub const fn default_for(protocol: ProtocolName) -> Self {
        match protocol {
            ProtocolName::V1 => Self::ShouldDetect,
            ProtocolName::V2 => Self::ShouldDetect,
        }
    }
}

/// One option of one decision, as `--decide ID=OPTION` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Choice {
    /// `DEC-001`.
    Dec001(Dec001),
    /// `DEC-002`.
    Dec002(Dec002),
    /// `DEC-003`.
    Dec003(Dec003),
    /// `DEC-004`.
    Dec004(Dec004),
    /// `DEC-005`.
    Dec005(Dec005),
    /// `DEC-006`.
    Dec006(Dec006),
    /// `DEC-007`.
    Dec007(Dec007),
    /// `DEC-008`.
    Dec008(Dec008),
    /// `DEC-009`.
    Dec009(Dec009),
    /// `DEC-010`.
    Dec010(Dec010),
    /// `DEC-011`.
    Dec011(Dec011),
    /// `DEC-012`.
    Dec012(Dec012),
    /// `DEC-013`.
    Dec013(Dec013),
    /// `DEC-014`.
    Dec014(Dec014),
    /// `DEC-015`.
    Dec015(Dec015),
    /// `DEC-016`.
    Dec016(Dec016),
    /// `DEC-017`.
    Dec017(Dec017),
    /// `DEC-018`.
    Dec018(Dec018),
}

impl Choice {
    /// The choice `id=key`, when the catalogue has that decision and option.
    pub fn parse(id: &str, key: &str) -> Result<Self, crate::ChoiceError> {
        fn find<T: OptionSet>(key: &str) -> Result<T, crate::ChoiceError> {
            T::ALL.iter().copied().find(|o| o.key() == key).ok_or_else(|| {
                crate::ChoiceError::UnknownOption {
                    id: T::ID,
                    option: key.to_owned(),
                    expected: T::ALL.iter().map(|o| o.key()).collect(),
                }
            })
        }
        match id {
            "DEC-001" => find(key).map(Choice::Dec001),
            "DEC-002" => find(key).map(Choice::Dec002),
            "DEC-003" => find(key).map(Choice::Dec003),
            "DEC-004" => find(key).map(Choice::Dec004),
            "DEC-005" => find(key).map(Choice::Dec005),
            "DEC-006" => find(key).map(Choice::Dec006),
            "DEC-007" => find(key).map(Choice::Dec007),
            "DEC-008" => find(key).map(Choice::Dec008),
            "DEC-009" => find(key).map(Choice::Dec009),
            "DEC-010" => find(key).map(Choice::Dec010),
            "DEC-011" => find(key).map(Choice::Dec011),
            "DEC-012" => find(key).map(Choice::Dec012),
            "DEC-013" => find(key).map(Choice::Dec013),
            "DEC-014" => find(key).map(Choice::Dec014),
            "DEC-015" => find(key).map(Choice::Dec015),
            "DEC-016" => find(key).map(Choice::Dec016),
            "DEC-017" => find(key).map(Choice::Dec017),
            "DEC-018" => find(key).map(Choice::Dec018),
            _ => Err(crate::ChoiceError::UnknownDecision(id.to_owned())),
        }
    }

    /// The decision's ID.
    pub fn id(self) -> &'static str {
        match self {
            Choice::Dec001(_) => Dec001::ID,
            Choice::Dec002(_) => Dec002::ID,
            Choice::Dec003(_) => Dec003::ID,
            Choice::Dec004(_) => Dec004::ID,
            Choice::Dec005(_) => Dec005::ID,
            Choice::Dec006(_) => Dec006::ID,
            Choice::Dec007(_) => Dec007::ID,
            Choice::Dec008(_) => Dec008::ID,
            Choice::Dec009(_) => Dec009::ID,
            Choice::Dec010(_) => Dec010::ID,
            Choice::Dec011(_) => Dec011::ID,
            Choice::Dec012(_) => Dec012::ID,
            Choice::Dec013(_) => Dec013::ID,
            Choice::Dec014(_) => Dec014::ID,
            Choice::Dec015(_) => Dec015::ID,
            Choice::Dec016(_) => Dec016::ID,
            Choice::Dec017(_) => Dec017::ID,
            Choice::Dec018(_) => Dec018::ID,
        }
    }

    /// The option's key.
    pub fn key(self) -> &'static str {
        match self {
            Choice::Dec001(o) => o.key(),
            Choice::Dec002(o) => o.key(),
            Choice::Dec003(o) => o.key(),
            Choice::Dec004(o) => o.key(),
            Choice::Dec005(o) => o.key(),
            Choice::Dec006(o) => o.key(),
            Choice::Dec007(o) => o.key(),
            Choice::Dec008(o) => o.key(),
            Choice::Dec009(o) => o.key(),
            Choice::Dec010(o) => o.key(),
            Choice::Dec011(o) => o.key(),
            Choice::Dec012(o) => o.key(),
            Choice::Dec013(o) => o.key(),
            Choice::Dec014(o) => o.key(),
            Choice::Dec015(o) => o.key(),
            Choice::Dec016(o) => o.key(),
            Choice::Dec017(o) => o.key(),
            Choice::Dec018(o) => o.key(),
        }
    }

    /// The keys of the options the model implements for `protocol` (empty:
    /// the decision does not apply to that protocol).
    pub fn model_keys(self, protocol: ProtocolName) -> Vec<&'static str> {
        match self {
            Choice::Dec001(_) => Dec001::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec002(_) => Dec002::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec003(_) => Dec003::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec004(_) => Dec004::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec005(_) => Dec005::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec006(_) => Dec006::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec007(_) => Dec007::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec008(_) => Dec008::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec009(_) => Dec009::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec010(_) => Dec010::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec011(_) => Dec011::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec012(_) => Dec012::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec013(_) => Dec013::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec014(_) => Dec014::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec015(_) => Dec015::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec016(_) => Dec016::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec017(_) => Dec017::model(protocol).iter().map(|o| o.key()).collect(),
            Choice::Dec018(_) => Dec018::model(protocol).iter().map(|o| o.key()).collect(),
        }
    }
}

/// One chosen option for every decision of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decisions {
    /// `DEC-001`.
    pub dec001: Dec001,
    /// `DEC-002`.
    pub dec002: Dec002,
    /// `DEC-003`.
    pub dec003: Dec003,
    /// `DEC-004`.
    pub dec004: Dec004,
    /// `DEC-005`.
    pub dec005: Dec005,
    /// `DEC-006`.
    pub dec006: Dec006,
    /// `DEC-007`.
    pub dec007: Dec007,
    /// `DEC-008`.
    pub dec008: Dec008,
    /// `DEC-009`.
    pub dec009: Dec009,
    /// `DEC-010`.
    pub dec010: Dec010,
    /// `DEC-011`.
    pub dec011: Dec011,
    /// `DEC-012`.
    pub dec012: Dec012,
    /// `DEC-013`.
    pub dec013: Dec013,
    /// `DEC-014`.
    pub dec014: Dec014,
    /// `DEC-015`.
    pub dec015: Dec015,
    /// `DEC-016`.
    pub dec016: Dec016,
    /// `DEC-017`.
    pub dec017: Dec017,
    /// `DEC-018`.
    pub dec018: Dec018,
}

impl Decisions {
    /// The catalogue's defaults for `protocol`.
    pub const fn defaults(protocol: ProtocolName) -> Self {
        Decisions {
            dec001: Dec001::default_for(protocol),
            dec002: Dec002::default_for(protocol),
            dec003: Dec003::default_for(protocol),
            dec004: Dec004::default_for(protocol),
            dec005: Dec005::default_for(protocol),
            dec006: Dec006::default_for(protocol),
            dec007: Dec007::default_for(protocol),
            dec008: Dec008::default_for(protocol),
            dec009: Dec009::default_for(protocol),
            dec010: Dec010::default_for(protocol),
            dec011: Dec011::default_for(protocol),
            dec012: Dec012::default_for(protocol),
            dec013: Dec013::default_for(protocol),
            dec014: Dec014::default_for(protocol),
            dec015: Dec015::default_for(protocol),
            dec016: Dec016::default_for(protocol),
            dec017: Dec017::default_for(protocol),
            dec018: Dec018::default_for(protocol),
        }
    }

    /// Takes one choice.
    pub fn set(&mut self, choice: Choice) {
        match choice {
            Choice::Dec001(o) => self.dec001 = o,
            Choice::Dec002(o) => self.dec002 = o,
            Choice::Dec003(o) => self.dec003 = o,
            Choice::Dec004(o) => self.dec004 = o,
            Choice::Dec005(o) => self.dec005 = o,
            Choice::Dec006(o) => self.dec006 = o,
            Choice::Dec007(o) => self.dec007 = o,
            Choice::Dec008(o) => self.dec008 = o,
            Choice::Dec009(o) => self.dec009 = o,
            Choice::Dec010(o) => self.dec010 = o,
            Choice::Dec011(o) => self.dec011 = o,
            Choice::Dec012(o) => self.dec012 = o,
            Choice::Dec013(o) => self.dec013 = o,
            Choice::Dec014(o) => self.dec014 = o,
            Choice::Dec015(o) => self.dec015 = o,
            Choice::Dec016(o) => self.dec016 = o,
            Choice::Dec017(o) => self.dec017 = o,
            Choice::Dec018(o) => self.dec018 = o,
        }
    }

    /// Every decision as the choice it holds, in catalogue order.
    pub fn choices(&self) -> [Choice; 18] {
        [
            Choice::Dec001(self.dec001),
            Choice::Dec002(self.dec002),
            Choice::Dec003(self.dec003),
            Choice::Dec004(self.dec004),
            Choice::Dec005(self.dec005),
            Choice::Dec006(self.dec006),
            Choice::Dec007(self.dec007),
            Choice::Dec008(self.dec008),
            Choice::Dec009(self.dec009),
            Choice::Dec010(self.dec010),
            Choice::Dec011(self.dec011),
            Choice::Dec012(self.dec012),
            Choice::Dec013(self.dec013),
            Choice::Dec014(self.dec014),
            Choice::Dec015(self.dec015),
            Choice::Dec016(self.dec016),
            Choice::Dec017(self.dec017),
            Choice::Dec018(self.dec018),
        ]
    }
}
