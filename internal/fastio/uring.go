//go:build linux

package fastio

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The io_uring interface, from the kernel's UAPI (linux/io_uring.h).
const (
	opOpenat = 18
	opClose  = 19
	opStatx  = 21
	opRead   = 22

	sqeFixedFile  = 1 << 0 // IOSQE_FIXED_FILE
	sqeIOHardlink = 1 << 3 // IOSQE_IO_HARDLINK: the next SQE runs after this one whatever its result

	enterGetEvents = 1 << 0 // IORING_ENTER_GETEVENTS
	featSingleMmap = 1 << 0 // IORING_FEAT_SINGLE_MMAP

	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000

	registerFiles2      = 13     // IORING_REGISTER_FILES2
	rsrcRegisterSparse  = 1 << 0 // IORING_RSRC_REGISTER_SPARSE
	ringEntries         = 512
	chainLen            = 3 // OPENAT, READ, CLOSE per file
	ringSlots           = ringEntries / chainLen
	userDataOpShift     = 2
	userDataOpMask      = 1<<userDataOpShift - 1
	maxRingEnterRetries = 1000
)

// uringParams is struct io_uring_params.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

// uringSQE is struct io_uring_sqe (64 bytes).
type uringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64 // also addr2
	addr        uint64
	len         uint32
	opFlags     uint32 // rw_flags, open_flags, statx_flags
	userData    uint64
	bufIndex    uint16
	personality uint16
	fileIndex   uint32
	addr3       uint64
	pad         uint64
}

// uringCQE is struct io_uring_cqe (16 bytes).
type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// rsrcRegister is struct io_uring_rsrc_register.
type rsrcRegister struct {
	nr, flags  uint32
	resv2      uint64
	data, tags uint64
}

// ring is one io_uring instance with its shared memory. One goroutine uses
// it at a time (see getRing).
type ring struct {
	fd         int
	sqMem      []byte
	cqMem      []byte
	sqeMem     []byte
	sqHead     *uint32
	sqTail     *uint32
	sqMask     uint32
	sqEntries  uint32
	cqHead     *uint32
	cqTail     *uint32
	cqMask     uint32
	sqes       []uringSQE
	cqes       []uringCQE
	tail       uint32 // our SQ tail, published at submit
	queued     int    // SQEs queued since the last wait
	enterCalls *atomic.Int64

	// Memory the queued SQEs point at: held here, on the heap, until
	// their completions are reaped, so the kernel never writes into
	// memory the collector has freed.
	hold     [][]byte
	holdStat []unix.Statx_t
	names    []byte
}

// uringEnters counts io_uring_enter calls, for the benchmarks.
var uringEnters atomic.Int64

// newRing sets up a ring with ringEntries SQEs and a sparse table of
// ringSlots direct descriptors.
func newRing() (*ring, error) {
	var p uringParams
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, ringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r := &ring{fd: int(fd), enterCalls: &uringEnters}
	if err := r.mapRings(&p); err != nil {
		r.close()
		return nil, err
	}
	reg := rsrcRegister{nr: ringSlots, flags: rsrcRegisterSparse}
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, fd, registerFiles2, uintptr(unsafe.Pointer(&reg)), unsafe.Sizeof(reg), 0, 0); errno != 0 {
		r.close()
		return nil, fmt.Errorf("io_uring_register sparse files: %w", errno)
	}
	return r, nil
}

func (r *ring) mapRings(p *uringParams) error {
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	if p.features&featSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	if r.sqMem, err = unix.Mmap(r.fd, offSQRing, sqSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fmt.Errorf("io_uring mmap SQ ring: %w", err)
	}
	if p.features&featSingleMmap != 0 {
		r.cqMem = r.sqMem
	} else if r.cqMem, err = unix.Mmap(r.fd, offCQRing, cqSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fmt.Errorf("io_uring mmap CQ ring: %w", err)
	}
	sqeSize := int(p.sqEntries) * int(unsafe.Sizeof(uringSQE{}))
	if r.sqeMem, err = unix.Mmap(r.fd, offSQEs, sqeSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fmt.Errorf("io_uring mmap SQEs: %w", err)
	}
	u32 := func(mem []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	r.sqHead, r.sqTail = u32(r.sqMem, p.sqOff.head), u32(r.sqMem, p.sqOff.tail)
	r.sqMask, r.sqEntries = *u32(r.sqMem, p.sqOff.ringMask), p.sqEntries
	r.cqHead, r.cqTail = u32(r.cqMem, p.cqOff.head), u32(r.cqMem, p.cqOff.tail)
	r.cqMask = *u32(r.cqMem, p.cqOff.ringMask)
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Pointer(&r.cqMem[p.cqOff.cqes])), p.cqEntries)
	// SQ slot i always holds SQE i: SQEs are used in ring order.
	array := unsafe.Slice(u32(r.sqMem, p.sqOff.array), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.tail = atomic.LoadUint32(r.sqTail)
	return nil
}

// close unmaps the rings and closes the ring's descriptor, which also
// closes any direct descriptors left in its table.
func (r *ring) close() {
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
	}
	if r.cqMem != nil && &r.cqMem[0] != &r.sqMem[0] {
		unix.Munmap(r.cqMem)
	}
	if r.sqMem != nil {
		unix.Munmap(r.sqMem)
	}
	unix.Close(r.fd)
}

// free reports how many more SQEs fit before the next wait.
func (r *ring) free() int { return int(r.sqEntries) - r.queued }

// next returns the next SQE, zeroed; the caller must have checked free.
func (r *ring) next() *uringSQE {
	s := &r.sqes[r.tail&r.sqMask]
	*s = uringSQE{}
	r.tail++
	r.queued++
	return s
}

// errRingBroken means io_uring_enter failed with operations in flight; the
// ring and the memory they use are abandoned.
var errRingBroken = errors.New("io_uring: ring failed with operations in flight")

// wait submits the queued SQEs and reaps every completion, passing each
// to done. On an error no queued operation is still in flight, unless the
// error is errRingBroken.
func (r *ring) wait(done func(userData uint64, res int32)) error {
	atomic.StoreUint32(r.sqTail, r.tail)
	want := r.queued
	got, fails := 0, 0
	for got < want {
		unsubmitted := r.tail - atomic.LoadUint32(r.sqHead)
		r.enterCalls.Add(1)
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(unsubmitted), uintptr(want-got), enterGetEvents, 0, 0)
		got += r.reap(done)
		switch errno {
		case 0, unix.EINTR, unix.EAGAIN, unix.EBUSY:
			continue
		}
		fails++
		inFlight := want - got - int(r.tail-atomic.LoadUint32(r.sqHead))
		if inFlight == 0 {
			// Take back what the kernel never consumed.
			r.tail = atomic.LoadUint32(r.sqHead)
			atomic.StoreUint32(r.sqTail, r.tail)
			r.queued = 0
			return fmt.Errorf("io_uring_enter: %w", errno)
		}
		if fails > maxRingEnterRetries {
			return errRingBroken
		}
	}
	r.queued = 0
	return nil
}

// reap passes every available completion to done and returns how many.
func (r *ring) reap(done func(userData uint64, res int32)) int {
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail)
	for h := head; h != tail; h++ {
		c := &r.cqes[h&r.cqMask]
		done(c.userData, c.res)
	}
	atomic.StoreUint32(r.cqHead, tail)
	return int(tail - head)
}

// release drops the memory the last batch used.
func (r *ring) release() {
	clear(r.hold)
	r.hold = r.hold[:0]
	r.holdStat = nil
}

// The process's rings: set up lazily, one per goroutine using io_uring at
// the same time up to GOMAXPROCS. A setup failure (ENOSYS from an old
// kernel, EPERM from seccomp or kernel.io_uring_disabled, ENOMEM...) turns
// io_uring off for the rest of the process.
var rings struct {
	mu    sync.Mutex
	cond  sync.Cond
	free  []*ring
	n     int
	err   error
	setup func() (*ring, error)
}

func init() {
	rings.cond.L = &rings.mu
	rings.setup = newRing
}

// UringError reports why io_uring is unavailable in this process: the
// error its setup failed with, or a ring that broke; nil when it works or
// has not been tried.
func UringError() error {
	rings.mu.Lock()
	defer rings.mu.Unlock()
	return rings.err
}

// getRing returns a ring for the caller's exclusive use, or nil when the
// Uring path is off in c or io_uring cannot be set up.
func (c Config) getRing() *ring {
	if !c.On(Uring) {
		return nil
	}
	rings.mu.Lock()
	defer rings.mu.Unlock()
	for {
		if rings.err != nil {
			return nil
		}
		if n := len(rings.free); n > 0 {
			r := rings.free[n-1]
			rings.free = rings.free[:n-1]
			return r
		}
		if rings.n < runtime.GOMAXPROCS(0) {
			r, err := rings.setup()
			if err != nil {
				rings.err = err
				return nil
			}
			rings.n++
			return r
		}
		rings.cond.Wait()
	}
}

// putRing gives r back after use; a ring that broke is abandoned (with the
// memory its operations point at) and io_uring is turned off.
func putRing(r *ring, err error) {
	rings.mu.Lock()
	defer rings.mu.Unlock()
	if errors.Is(err, errRingBroken) {
		rings.err = err
		abandoned = append(abandoned, r)
		rings.cond.Broadcast()
		return
	}
	r.release()
	rings.free = append(rings.free, r)
	rings.cond.Signal()
}

// abandoned keeps broken rings, and so the buffers their unfinished
// operations may still write into, reachable for the life of the process.
var abandoned []*ring
