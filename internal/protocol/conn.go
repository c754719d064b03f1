package protocol

import (
	"io"
	"sync/atomic"
	"time"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

// Conn is a connection after its set-up: the negotiated Session and the
// streams each direction uses from here on, multiplexed as rsync decides
// for this side's role.
type Conn struct {
	Session *Session
	// R decodes what the peer sends, demultiplexed when the peer
	// multiplexes; W encodes what this side sends, through Mux when this
	// side multiplexes.
	R *wire.Reader
	W *wire.Writer
	// Mux carries this side's messages; nil when its output is plain.
	Mux *wire.MuxWriter
	// Demux splits the peer's messages from its data; nil when its output
	// is plain. Its handler must be set (SetHandler) before R is read.
	Demux *wire.MuxReader
	// Raw reads the peer's bytes beneath the demultiplexing: before
	// protocol 31, --files-from names travel outside the multiplexed
	// frames. It is nil when R itself is plain.
	Raw *wire.Reader
	// In and Out count the raw bytes each way, as rsync's total_read and
	// total_written do.
	In, Out *Counter
	// inBase and outBase are the counts of the set-up (version, compat
	// flags, negotiation strings, checksum seed): rsync counts only what
	// passes once its buffered I/O has started, so they are left out.
	// rsync: io.c perform_io (stats.total_read), main.c start_server
	inBase, outBase int64
}

// Connect runs the version exchange and set-up on the raw streams in and
// out, then switches each direction to multiplexed I/O as rsync does for
// this role: a server always multiplexes its output (protocol 23 and up),
// a client from protocol 30; a client always reads multiplexed input, a
// server from 30; below 30, --remove-source-files multiplexes the
// generator's messages too. rsync: main.c start_server, client_run,
// io.c io_start_multiplex_out / io_start_multiplex_in
func Connect(in io.Reader, out io.Writer, cfg Config) (*Conn, error) {
	if cfg.BwLimit > 0 {
		out = newPacedWriter(out, cfg.BwLimit)
	}
	cin := &Counter{R: in, clock: cfg.Clock}
	cout := &Counter{W: out, clock: cfg.Clock}
	raw := wire.NewReader(cin)
	rawW := wire.NewWriter(cout)
	neg, remote, err := ExchangeVersions(raw, rawW, cfg.Protocol)
	if err != nil {
		return nil, err
	}
	sess, err := Setup(raw, rawW, cfg, neg, remote)
	if err != nil {
		return nil, err
	}
	c := &Conn{Session: sess, In: cin, Out: cout, R: raw, W: rawW,
		inBase: cin.N() - int64(raw.Buffered()), outBase: cout.N() + int64(rawW.Buffered())}
	p := sess.Protocol
	muxOut := cfg.AmServer || p >= 30 || cfg.GeneratorMessages && !cfg.AmSender
	muxIn := !cfg.AmServer || p >= 30 || cfg.GeneratorMessages && cfg.AmSender
	if muxOut {
		c.Mux = wire.NewMuxWriter(cout.Vectored(cfg.IO))
		c.W = wire.NewWriter(c.Mux)
	}
	if muxIn {
		c.Demux = wire.NewMuxReader(raw, nil)
		// The raw reader beneath already buffers whole frames: this
		// one only needs room for the reads of one frame at a time.
		c.R = wire.NewReaderSize(c.Demux, 64<<10)
		c.Raw = raw
	}
	return c, nil
}

// BytesRead is the raw byte count received on the connection.
func (c *Conn) BytesRead() int64 {
	if c.In == nil {
		return 0
	}
	return c.In.N() - c.inBase
}

// BytesWritten is the raw byte count sent so far (what is still buffered
// in W is not counted).
func (c *Conn) BytesWritten() int64 {
	if c.Out == nil {
		return 0
	}
	return c.Out.N() - c.outBase
}

// Counter counts the bytes that pass through a connection, as rsync's
// total_read and total_written do (multiplexing headers included).
type Counter struct {
	R     io.Reader
	W     io.Writer
	n     atomic.Int64
	clock *IOClock // when set, stamped at each read or write that moves bytes
}

// Read reads from R and counts.
func (c *Counter) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.n.Add(int64(n))
	if c.clock != nil && n > 0 {
		c.clock.in.Store(time.Now().Unix())
	}
	return n, err
}

// Write writes to W and counts.
func (c *Counter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.n.Add(int64(n))
	c.wrote(int64(n))
	return n, err
}

// wrote stamps the clock for n bytes written.
func (c *Counter) wrote(n int64) {
	if c.clock != nil && n > 0 {
		c.clock.out.Store(time.Now().Unix())
	}
}

// IOClock records, in Unix seconds, when a connection last read and last
// wrote: rsync's last_io_in and last_io_out, which --timeout is measured
// against. Its zero value has seen no I/O.
type IOClock struct {
	in, out atomic.Int64
}

// Start stamps both directions with now, as a transfer's start counts as
// I/O. rsync: io.c check_timeout (a zero last_io_in becomes now)
func (c *IOClock) Start(now time.Time) {
	c.in.Store(now.Unix())
	c.out.Store(now.Unix())
}

// Last returns when the connection last read and last wrote.
func (c *IOClock) Last() (in, out int64) { return c.in.Load(), c.out.Load() }

// N returns the bytes counted so far.
func (c *Counter) N() int64 { return c.n.Load() }

// Vectored returns a writer to W that counts into c and, when paths has
// Writev on and W is a descriptor writev can serve (fastio.NewVecWriter),
// also writes several buffers with one system call, or, when W gathers
// buffers itself (an in-memory pipe), hands them to it; otherwise it returns
// c itself.
func (c *Counter) Vectored(paths fastio.Config) io.Writer {
	if v := paths.NewVecWriter(c.W); v != nil {
		return &vecCounter{c: c, v: v}
	}
	if v, ok := c.W.(fastio.BuffersWriter); ok {
		return &vecCounter{c: c, v: v} // an in-memory pipe gathers for itself
	}
	return c
}

// vecCounter is a Counter's fastio.BuffersWriter.
type vecCounter struct {
	c *Counter
	v fastio.BuffersWriter
}

func (vc *vecCounter) Write(p []byte) (int, error) { return vc.c.Write(p) }

func (vc *vecCounter) WriteBuffers(bufs [][]byte) (int64, error) {
	n, err := vc.v.WriteBuffers(bufs)
	vc.c.n.Add(n)
	vc.c.wrote(n)
	return n, err
}
