package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/transport"
	"github.com/gorsync/gorsync/internal/wire"
)

// The stream flags a batch file starts with: the options that shape the
// stream, which the side reading it must share. rsync: batch.c flag_ptr
const (
	batchRecurse = 1 << iota
	batchOwner
	batchGroup
	batchLinks
	batchDevices
	batchHardLinks
	batchChecksum
	batchDirs     // protocol 29
	batchCompress // protocol 29
	batchIconv    // protocol 30
	batchACLs
	batchXattrs
	batchInplace
	batchAppend
	batchAppendVerify
)

// batchFlagNames are the options of the flags as rsync names them when it
// changes one to match a batch file. rsync: batch.c flag_name
var batchFlagNames = []string{
	"--recurse (-r)", "--owner (-o)", "--group (-g)", "--links (-l)",
	"--devices (-D)", "--hard-links (-H)", "--checksum (-c)", "--dirs (-d)",
	"--compress (-z)", "--iconv", "--acls (-A)", "--xattrs (-X)",
	"--inplace", "--append", "--append-verify",
}

// streamFlags is the flags word for the options o. rsync: batch.c
// write_stream_flags
func streamFlags(o *options.Options) int32 {
	var f int32
	set := func(on bool, bit int32) {
		if on {
			f |= bit
		}
	}
	compress, _ := o.Compression()
	set(o.Recursive, batchRecurse)
	set(o.Owner, batchOwner)
	set(o.Group, batchGroup)
	set(o.Links, batchLinks)
	set(o.Devices, batchDevices)
	set(o.Checksum, batchChecksum)
	set(o.TransferDirs(), batchDirs)
	set(compress, batchCompress)
	return f
}

// batchWriter is a client's batch file being written, FILE and FILE.sh.
type batchWriter struct {
	f   *os.File
	sh  *os.File
	tee *engine.BatchTee
}

// openBatch creates FILE.sh and FILE and starts FILE with the stream
// flags, as rsync does before it connects. rsync: batch.c
// open_batch_files, main.c main
func openBatch(cfg *Config) (*batchWriter, error) {
	name := cfg.Opts.BatchName
	sh, err := os.OpenFile(name+".sh", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o700)
	if err != nil {
		return nil, &exitcode.Error{Code: exitcode.FileSelect, Msg: fmt.Sprintf("rsync: [Receiver] Batch file %q open error: %s", batchPath(name+".sh"), engine.ErrnoText(err))}
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		sh.Close()
		return nil, &exitcode.Error{Code: exitcode.FileIO, Msg: fmt.Sprintf("rsync: [Receiver] Batch file %q open error: %s", batchPath(name), engine.ErrnoText(err))}
	}
	bw := &batchWriter{f: f, sh: sh}
	w := wire.NewWriter(f)
	w.WriteInt(streamFlags(cfg.Opts))
	if err := w.Flush(); err != nil {
		bw.close()
		return nil, batchWriteErr(name, err)
	}
	return bw, nil
}

// batchPath is a batch file's name as rsync's full_fname gives it: below
// the working directory, unless absolute.
func batchPath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	if wd, err := os.Getwd(); err == nil {
		return wd + "/" + name
	}
	return name
}

func batchWriteErr(name string, err error) error {
	return &exitcode.Error{Code: exitcode.FileIO, Msg: fmt.Sprintf("rsync: [client] Batch file %s write error: %s", name, engine.ErrnoText(err))}
}

// close closes both files.
func (bw *batchWriter) close() error {
	if bw == nil {
		return nil
	}
	err := bw.f.Close()
	if bw.sh != nil {
		bw.sh.Close()
	}
	return err
}

// tap puts the batch file beneath a sending client's connection: what the
// sender writes from start on is recorded. rsync: io.c write_buf
// (write_batch_monitor_out)
func (bw *batchWriter) tap(c *engine.Conn, eo *engine.Options) error {
	if err := c.W.Flush(); err != nil {
		return err
	}
	var conn io.Writer = c.Out
	if c.Mux != nil {
		conn = c.Mux
	}
	bw.tee = &engine.BatchTee{Conn: conn, Batch: bw.f}
	c.W = wire.NewWriter(bw.tee)
	eo.BatchTee = bw.tee
	eo.Handoff = nil // every file's data crosses the stream
	return nil
}

// tapIn puts the batch file beneath a receiving client's connection: what
// the sender sends, demultiplexed, is recorded. rsync: io.c read_buf
// (write_batch_monitor_in)
func (bw *batchWriter) tapIn(c *engine.Conn) {
	c.R = wire.NewReaderSize(io.TeeReader(c.Demux, bw.f), 64<<10)
}

// start writes the batch's header, the connection's set-up, and the
// FILE.sh script, then starts the recording. rsync: io.c
// start_write_batch, batch.c write_batch_shell_file
func (bw *batchWriter) start(cfg *Config, c *engine.Conn) error {
	if bw.tee != nil {
		if err := c.W.Flush(); err != nil {
			return err
		}
	}
	s := c.Session
	w := wire.NewWriter(bw.f)
	w.WriteInt(int32(s.Protocol))
	if s.Protocol >= 30 {
		w.WriteVarint(int32(s.CompatFlags))
	}
	w.WriteInt(s.Seed)
	if err := w.Flush(); err != nil {
		return batchWriteErr(cfg.Opts.BatchName, err)
	}
	if bw.tee != nil {
		bw.tee.On = true
	}
	var rules []string
	if cfg.rules != nil {
		rules = cfg.rules.ScriptRules()
	}
	for _, r := range rules {
		// One line of the here-document each: a newline would end it
		// early and run the rest. rsync: batch.c write_filter_rules
		if strings.Contains(r, "\n") {
			return &exitcode.Error{Code: exitcode.Syntax, Msg: "cannot write a filter rule containing a newline to the batch replay script"}
		}
	}
	script := batchScript(cfg.Opts, programName(), rules, s.Protocol)
	_, err := io.WriteString(bw.sh, script)
	if cerr := bw.sh.Close(); err == nil {
		err = cerr
	}
	bw.sh = nil
	if err != nil {
		return &exitcode.Error{Code: exitcode.FileIO, Msg: fmt.Sprintf("rsync: [client] Batch file %s.sh write error: %s", cfg.Opts.BatchName, engine.ErrnoText(err))}
	}
	return nil
}

// programName is how this program was invoked, which the batch's script
// runs again.
func programName() string {
	if len(os.Args) > 0 {
		return os.Args[0]
	}
	return "rsync"
}

// batchScript is FILE.sh for the command line o: the same command with
// --read-batch for --write-batch, the paths left out but the destination,
// which $1 may replace. rsync: batch.c write_batch_shell_file
func batchScript(o *options.Options, prog string, rules []string, proto int) string {
	var b strings.Builder
	writeShellArg(&b, prog)
	if len(rules) > 0 {
		// The rules follow as a here-document.
		if proto >= 29 {
			b.WriteString(" --filter=")
			writeShellArg(&b, "._-")
		} else {
			b.WriteString(" --exclude-from=")
			writeShellArg(&b, "-")
		}
	}
	raw := append([]string(nil), o.Argv...)
	// The positional arguments are the last ones that match, in
	// reverse.
	keep := make([]bool, len(raw))
	for i := range keep {
		keep[i] = true
	}
	for i, j := len(raw)-1, len(o.Args)-1; i >= 0 && j >= 0; i-- {
		if raw[i] == o.Args[j] {
			keep[i] = false
			j--
		}
	}
	for i := 0; i < len(raw); i++ {
		p := raw[i]
		if !keep[i] {
			continue
		}
		if strings.HasPrefix(p, "--files-from") || strings.HasPrefix(p, "--filter") ||
			strings.HasPrefix(p, "--include") || strings.HasPrefix(p, "--exclude") {
			if !strings.Contains(p, "=") {
				i++
			}
			continue
		}
		if p == "-f" {
			i++
			continue
		}
		if rest, ok := batchOptValue(p); ok {
			b.WriteString(" --read-batch")
			if rest != nil {
				b.WriteByte('=')
				writeShellArg(&b, *rest)
			}
			continue
		}
		b.WriteByte(' ')
		writeShellArg(&b, p)
	}
	dst := o.Args[len(o.Args)-1]
	if l := transport.Parse(dst); l.Remote() {
		dst = l.Path
	}
	b.WriteString(" ${1:-")
	writeShellArg(&b, dst)
	b.WriteByte('}')
	if len(rules) > 0 {
		eol := byte('\n')
		if o.From0 {
			eol = 0
		}
		b.WriteString(" <<'#E#'\n")
		for _, r := range rules {
			b.WriteString(r)
			b.WriteByte(eol)
		}
		if o.From0 {
			b.WriteString(";\n")
		}
		b.WriteString("#E#")
	}
	b.WriteByte('\n')
	return b.String()
}

// batchOptValue recognises --write-batch and --only-write-batch (and what
// starts like them, as rsync's strncmp does) and returns the value after
// "=", nil without one.
func batchOptValue(p string) (*string, bool) {
	for _, opt := range []string{"--write-batch", "--only-write-batch"} {
		if strings.HasPrefix(p, opt) {
			rest := p[len(opt):]
			if strings.HasPrefix(rest, "=") {
				v := rest[1:]
				return &v, true
			}
			return nil, true
		}
	}
	return nil, false
}

// writeShellArg writes arg single-quoted for the shell, an option's
// "--name=" prefix left bare. rsync: batch.c write_arg
func writeShellArg(b *strings.Builder, arg string) {
	if strings.HasPrefix(arg, "-") {
		if eq := strings.IndexByte(arg, '='); eq >= 0 && plainOptName(arg[:eq]) {
			b.WriteString(arg[:eq+1])
			arg = arg[eq+1:]
		}
	}
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(arg, "'", `'\''`))
	b.WriteByte('\'')
}

func plainOptName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '-' && c != '_' && !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// batchEngine adjusts a role's options for writing a batch: a receiving
// side told --only-write-batch changes nothing but still asks for the
// data, with sums, for the batch's sake. rsync: main.c main
// (write_batch < 0: dry_run), sender.c send_files
func batchEngine(cfg *Config, eo *engine.Options, receiving bool) {
	eo.WriteBatch = cfg.Opts.WriteBatch
	if eo.WriteBatch < 0 && receiving {
		eo.DryRun = true
	}
}

// readBatch applies the batch file FILE (standard input for "-") to the
// destination: a receiving client whose sender is the file, its
// generator's requests kept in memory. rsync: main.c do_cmd (read_batch),
// compat.c setup_protocol, batch.c check_batch_flags
func readBatch(ctx context.Context, cfg *Config) (*Stats, error) {
	start := time.Now()
	o := cfg.Opts
	name := o.BatchName
	var in io.Reader = cfg.Env.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, &exitcode.Error{Code: exitcode.FileIO, Msg: fmt.Sprintf("rsync: [Receiver] Batch file %q open error: %s", batchPath(name), engine.ErrnoText(err))}
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
			return nil, &exitcode.Error{Code: exitcode.FileIO, Msg: fmt.Sprintf("Batch file %q is not a regular file", batchPath(name))}
		}
		in = f
	}
	cin := &protocol.Counter{R: in}
	r := wire.NewReader(cin)
	flags, err := r.ReadInt()
	if err != nil {
		return nil, batchEOF(err)
	}
	v, err := r.ReadInt()
	if err != nil {
		return nil, batchEOF(err)
	}
	ours := protocol.MaxVersion
	if o.Protocol != 0 {
		ours = o.Protocol
	}
	proto := int(v)
	if proto > ours {
		return nil, &exitcode.Error{Code: exitcode.Protocol, Msg: fmt.Sprintf("The protocol version in the batch file is too new (%d > %d).", proto, ours)}
	}
	if proto < protocol.MinVersion {
		return nil, &protocol.VersionError{Remote: proto}
	}
	sess := &protocol.Session{Protocol: proto, RemoteProtocol: proto, ReceiverSymlinkTimes: true}
	if proto >= 30 {
		cf, err := r.ReadVarint()
		if err != nil {
			return nil, batchEOF(err)
		}
		sess.CompatFlags = uint32(cf)
	}
	if sess.Seed, err = r.ReadInt(); err != nil {
		return nil, batchEOF(err)
	}
	// The options the stream depends on are the batch's; whether it
	// may recurse incrementally is decided by the command line's.
	// rsync: main.c do_cmd (set_allow_inc_recurse), compat.c
	// setup_protocol
	allowInc := cfg.allowIncRecurse(false)
	bo := *o
	if err := matchBatchFlags(cfg, &bo, flags, proto); err != nil {
		return nil, err
	}
	if sess.IncRecurse() && !allowInc {
		return nil, &exitcode.Error{Code: exitcode.Syntax, Msg: "Incompatible options specified for inc-recursive batch file."}
	}
	sess.XferSum = checksum.Implied(proto)
	sess.FileSum = sess.XferSum
	if bo.ChecksumChoice != "" {
		x, f, err := checksum.ParseChoice(bo.ChecksumChoice, proto)
		if err != nil {
			return nil, &protocol.NegotiateError{Msg: fmt.Sprintf("unknown checksum name: %s", bo.ChecksumChoice)}
		}
		sess.XferSum, sess.FileSum = x, f
	}
	if compress, choice := bo.Compression(); compress {
		sess.Compression = "zlib"
		if choice != "" {
			sess.Compression = strings.ToLower(choice)
		}
	}

	gen := newGenPipe()
	pc := &protocol.Conn{Session: sess, R: r, W: wire.NewWriter(gen), In: cin}
	c := engine.NewConn(pc, clientLogger(cfg))
	eo := engineOptions(&bo, false)
	eo.IO, eo.Hooks, eo.OnFile = cfg.IO, cfg.Hooks, cfg.OnFile
	eo.ReadBatch, eo.BatchGen = true, wire.NewReader(gen)
	if err := localReceiverFilters(cfg, cfg.rules.Clone(), proto, eo); err != nil {
		return nil, err
	}
	stop := onCancel(ctx, func() { gen.Close() })
	st, err := receiveSide(c, eo, cfg.Dest, false, nil)
	gen.Close()
	if stop() {
		return st, cancelled(ctx)
	}
	if st != nil && (err == nil || endOfRun(err)) {
		summary(cfg, c, st, start)
	}
	return st, err
}

// batchEOF is a batch file that ends within its header, which rsync
// reports as a closed connection. rsync: io.c whine_about_eof
func batchEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &exitcode.Error{Code: exitcode.StreamIO, Msg: "rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]"}
	}
	return err
}

// matchBatchFlags sets the options of the batch's stream flags, telling
// of each changed with -v; those gorsync does not implement refuse the
// batch. rsync: batch.c check_batch_flags
func matchBatchFlags(cfg *Config, o *options.Options, flags int32, proto int) error {
	n := len(batchFlagNames)
	if proto < 29 {
		n = 7
	} else if proto < 30 {
		n = 9
	}
	compress, _ := o.Compression()
	dirs := o.TransferDirs() // rsync's xfer_dirs, apart from -r
	cur := []*bool{&o.Recursive, &o.Owner, &o.Group, &o.Links, &o.Devices, nil, &o.Checksum, nil, nil}
	for i := 0; i < n; i++ {
		set := flags&(1<<i) != 0
		var was bool
		switch {
		case i == 7:
			was = dirs
		case i == 8:
			was = compress
		case i < len(cur) && cur[i] != nil:
			was = *cur[i]
		}
		if set == was {
			continue
		}
		if i == 9 {
			msg := "Do not"
			if set {
				msg = "Please"
			}
			return &exitcode.Error{Code: exitcode.Syntax, Msg: msg + " specify the --iconv option to use this batch file."}
		}
		if set && (i == 5 || i >= 10) {
			return &exitcode.Error{Code: exitcode.Unsupported, Msg: fmt.Sprintf("the batch file needs %s, which this version of gorsync does not support", batchFlagNames[i])}
		}
		if o.Verbose > 0 {
			verb := "Clear"
			if set {
				verb = "Sett"
			}
			io.WriteString(cfg.Env.Stdout, fmt.Sprintf("%sing the %s option to match the batchfile.\n", verb, batchFlagNames[i]))
		}
		switch {
		case i == 7:
			o.Dirs = options.Off
			if set {
				o.Dirs = options.On
			}
		case i == 8:
			o.Compress = 0
			if set {
				o.Compress = 1
			} else {
				o.CompressChoice = ""
			}
		case cur[i] != nil:
			*cur[i] = set
		}
	}
	return nil
}

// genPipe carries a batch-reading generator's requests to the receiver:
// in memory, without bound, so that the generator never waits for a
// receiver that has stopped reading them. rsync: main.c do_cmd
// (from_gen_pipe)
type genPipe struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func newGenPipe() *genPipe {
	p := &genPipe{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *genPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, io.ErrClosedPipe
	}
	p.buf = append(p.buf, b...)
	p.cond.Broadcast()
	return len(b), nil
}

func (p *genPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 && !p.closed {
		p.cond.Wait()
	}
	if len(p.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	return n, nil
}

// Close ends the pipe: reads return what is left, then io.EOF.
func (p *genPipe) Close() error {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	return nil
}
