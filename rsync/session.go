package rsync

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/report"
	"github.com/gorsync/gorsync/internal/wire"
)

// engineOptions converts command-line options into the roles' options.
func engineOptions(o *options.Options, local bool) *engine.Options {
	whole := o.WholeFile == options.On || (o.WholeFile == options.Unset && local)
	eo := &engine.Options{
		Recursive: o.Recursive, Dirs: o.TransferDirs(),
		Links: o.Links, Perms: o.Perms, Times: o.Times, Group: o.Group, Owner: o.Owner,
		Devices: o.Devices, Specials: o.Specials,
		WholeFile: whole, DryRun: o.DryRun, AlwaysChecksum: o.Checksum,
		IgnoreTimes: o.IgnoreTimes, SizeOnly: o.SizeOnly, NumericIDs: o.NumericIDs,
		Verbose: o.Verbose, Quiet: o.Quiet > 0,
		CompressLevel: compressLevel(o),
		Relative:      o.Relative, ImpliedDirs: o.ImpliedDirs, PruneEmptyDirs: o.PruneEmptyDirs,
		OneFileSystem: o.OneFileSystem,
		Select:        selectOptions(o, local),
	}
	deleteOptions(o, eo)
	return eo
}

// flistOptions derives the file-list encoding from the session and options.
func flistOptions(s *protocol.Session, o *engine.Options) flist.Options {
	return flist.Options{
		Protocol:          s.Protocol,
		CompatFlags:       int(s.CompatFlags),
		Recurse:           o.Recursive,
		PreserveUID:       o.Owner,
		PreserveGID:       o.Group,
		PreserveLinks:     o.Links,
		PreserveDevices:   o.Devices,
		PreserveSpecials:  o.Specials,
		AlwaysChecksum:    o.AlwaysChecksum,
		ChecksumLen:       flistSumLen(s),
		NumericIDs:        o.NumericIDs,
		DeleteMissingArgs: o.MissingArgs == 2,
		RelativePaths:     o.Relative,
	}
}

// flistSumLen is the length of --checksum sums in the file list: the file
// checksum's digest length from protocol 30, MD4's 16 before. rsync:
// checksum.c flist_csum_len.
func flistSumLen(s *protocol.Session) int {
	if s.Protocol < 30 {
		return 16
	}
	return s.FileParams().DigestLen()
}

// handshake runs the version exchange and set-up on the raw stream.
func handshake(r *wire.Reader, w *wire.Writer, cfg protocol.Config) (*protocol.Session, error) {
	neg, remote, err := protocol.ExchangeVersions(r, w, cfg.Protocol)
	if err != nil {
		return nil, err
	}
	return protocol.Setup(r, w, cfg, neg, remote)
}

// connect sets up the counted raw stream, runs the handshake, and switches
// each direction to multiplexed I/O as rsync does for this role.
func connect(in io.Reader, out io.Writer, cfg protocol.Config, log engine.Logger) (*engine.Conn, error) {
	cin := &engine.Counter{R: in}
	cout := &engine.Counter{W: out}
	raw := wire.NewReader(cin)
	rawW := wire.NewWriter(cout)
	sess, err := handshake(raw, rawW, cfg)
	if err != nil {
		return nil, err
	}
	c := &engine.Conn{Session: sess, In: cin, Out: cout}
	p := sess.Protocol
	// Our output: a server always multiplexes (protocol >= 23); a client from 30.
	muxOut := cfg.AmServer || p >= 30 || cfg.GeneratorMessages && !cfg.AmSender
	// Our input: a client always reads multiplexed; a server from 30.
	muxIn := !cfg.AmServer || p >= 30 || cfg.GeneratorMessages && cfg.AmSender
	if muxOut {
		c.Mux = wire.NewMuxWriter(cout.Vectored())
		c.W = wire.NewWriter(c.Mux)
	} else {
		c.W = rawW
	}
	if cfg.AmServer {
		stderr := io.Writer(os.Stderr)
		if tl, ok := log.(*engine.StderrLogger); ok {
			stderr = tl.Err
		}
		c.Log = &engine.ServerLogger{Mux: c.Mux, Stderr: stderr, Protocol: p}
	} else {
		c.Log = log
	}
	if muxIn {
		mr := wire.NewMuxReader(raw, c.HandleMsg)
		c.R = wire.NewReader(mr)
		c.Raw = raw
	} else {
		c.R = raw
	}
	return c, nil
}

// compressLevel is --compress-level, or unspecified.
func compressLevel(o *options.Options) int {
	if o.CompressLevelSet {
		return o.CompressLevel
	}
	return delta.LevelUnspecified
}

func protocolConfig(o *options.Options, env Env, server, sender bool) protocol.Config {
	compress, choice := o.Compression()
	p := protocol.MaxVersion
	if o.Protocol != 0 {
		p = o.Protocol
	}
	return protocol.Config{
		AmServer: server, AmSender: sender, Protocol: p,
		ClientInfo: o.ClientInfo, ChecksumChoice: o.ChecksumChoice,
		ChecksumEnv: env.Getenv("RSYNC_CHECKSUM_LIST"),
		Compress:    compress, CompressChoice: choice,
		CompressEnv: env.Getenv("RSYNC_COMPRESS_LIST"),

		GeneratorMessages: o.RemoveSource != 0,
	}
}

// ClientSend runs the client side of a push: this side sends srcs.
func ClientSend(o *options.Options, in io.Reader, out io.Writer, srcs []string, env Env) error {
	env.fill()
	start := time.Now()
	log := engine.NewTerminalLogger()
	log.Out, log.Err = env.Stdout, env.Stderr
	c, err := connect(in, out, protocolConfig(o, env, false, true), log)
	if err != nil {
		return err
	}
	c.LogDeleted = o.Verbose > 0 && o.Quiet == 0
	wf, err := clientFilters(c, o, env, true, false)
	if err != nil {
		return err
	}
	ff, err := senderFilesFrom(c, o, env, false)
	if err != nil {
		return err
	}
	st, err := sendSide(c, engineOptions(o, false), srcs, false, wf, ff)
	if st != nil && (err == nil || endOfRun(err)) {
		summary(o, env, c, st, start)
	}
	clientFailed(c, err)
	return err
}

// ClientReceive runs the client side of a pull: this side writes into dst.
func ClientReceive(o *options.Options, in io.Reader, out io.Writer, dst string, env Env) error {
	env.fill()
	start := time.Now()
	log := engine.NewTerminalLogger()
	log.Out, log.Err = env.Stdout, env.Stderr
	c, err := connect(in, out, protocolConfig(o, env, false, false), log)
	if err != nil {
		return err
	}
	// The client receiver always sends its filter list.
	rf, err := clientFilters(c, o, env, false, false)
	if err != nil {
		return err
	}
	eo := engineOptions(o, false)
	eo.Filter = rf.list
	eo.SentRules, eo.SentCVS = rf.sent, o.CVSExclude
	eo.Requested = requestedNames(o)
	ff, err := receiverFilesFrom(o, env, false)
	if err != nil {
		return err
	}
	st, err := receiveSide(c, eo, dst, false, ff)
	if st != nil && (err == nil || endOfRun(err)) {
		summary(o, env, c, st, start)
	}
	clientFailed(c, err)
	return err
}

// RunServer runs "gorsync --server": the side a client started over a remote
// shell, speaking on in and out.
func RunServer(o *options.Options, in io.Reader, out io.Writer, env Env) error {
	env.fill()
	log := engine.NewTerminalLogger()
	log.Out, log.Err = env.Stderr, env.Stderr
	c, err := connect(in, out, protocolConfig(o, env, true, o.Sender), log)
	if err != nil {
		return err
	}
	err = serve(c, o, engineOptions(o, false))
	if err != nil {
		return serverFailed(c, err, o.Sender)
	}
	return nil
}

// serverFailed tells the client why the server stops, as rsync's
// exit_cleanup does: the message and the "rsync error" line go down the
// multiplexed stream, followed for most codes by MSG_ERROR_EXIT so the client
// exits with the same code. rsync: cleanup.c _exit_cleanup.
func serverFailed(c *engine.Conn, err error, sender bool) error {
	var pe *engine.PeerExitError
	if errors.As(err, &pe) || c.Mux == nil {
		return err
	}
	role := "Receiver"
	if sender {
		role = "sender"
	}
	c.W.Flush()
	c.Log.Error(errorLines(err, role))
	code := exitCode(err)
	var ee *engine.ExitError
	endOfRun := errors.As(err, &ee) && (ee == engine.ErrPartial || ee == engine.ErrVanished)
	if !endOfRun && code != engine.ExitSocketIO && code != engine.ExitStreamIO && (c.Session.Protocol >= 31 || !sender) {
		c.SendMsgInt(wire.MsgErrorExit, int32(code))
	}
	c.W.Flush()
	return errors.Join(err, errServerReported)
}

func serve(c *engine.Conn, o *options.Options, eo *engine.Options) error {
	args := o.Args
	if len(args) > 0 && args[0] == "." {
		args = args[1:]
	}
	if o.Sender {
		wf, err := serverFilters(c, o)
		if err != nil {
			return err
		}
		if len(args) == 0 && (eo.Recursive || eo.Dirs) {
			args = []string{"."}
		}
		ff, err := senderFilesFrom(c, o, Env{Stdin: strings.NewReader("")}, true)
		if err != nil {
			return err
		}
		_, err = sendSide(c, eo, args, true, wf, ff)
		return err
	}
	dst := "."
	if len(args) > 0 {
		dst = args[0]
	}
	ff, err := receiverFilesFrom(o, Env{Stdin: strings.NewReader("")}, true)
	if err != nil {
		return err
	}
	if err := serverReceiverFilters(c, o, eo, dst); err != nil {
		return err
	}
	_, err = receiveSide(c, eo, dst, true, ff)
	return err
}

// sendSide builds and sends the file list, then serves file requests.
func sendSide(c *engine.Conn, eo *engine.Options, srcs []string, server bool, wf *walkFilter, ff *filesFrom) (*engine.Stats, error) {
	proto := c.Session.Protocol
	fo := flistOptions(c.Session, eo)
	buildStart := time.Now()
	wo := flist.WalkOptions{
		Recurse: eo.Recursive, Dirs: eo.Dirs,
		Report: func(p flist.Problem) { reportProblem(c, p) },
	}
	wf.hooks(&wo)
	wo.MissingArgs = eo.MissingArgs
	srcs = treeWalk(&wo, eo, proto, srcs, ff)
	var sums *engine.FileSums
	switch {
	case eo.AlwaysChecksum && fastio.Enabled(fastio.Parallel):
		// Workers sum the files while the walk goes on; the list waits
		// for them before it is sent.
		sums = engine.NewFileSums(c.Session.FileParams(), fo.ChecksumLen)
		wo.ChecksumLen = fo.ChecksumLen
		wo.Checksum = func(path string) ([]byte, error) { return sums.Start(path), nil }
	case eo.AlwaysChecksum:
		fh := checksum.NewFileHasher(c.Session.FileParams())
		sumBuf := make([]byte, 256<<10)
		wo.ChecksumLen = fo.ChecksumLen
		wo.Checksum = func(path string) ([]byte, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			fh.Reset(c.Session.FileParams())
			if err := fastio.Feed(fh, f, sumBuf); err != nil {
				return nil, err
			}
			return fh.Sum(nil)[:fo.ChecksumLen], nil
		}
	}
	progress := !server && eo.Verbose > 0 && !eo.Quiet
	if progress {
		// Without incremental recursion rsync announces the whole list.
		c.Log.Info("building file list ... ")
	}
	s := &engine.Sender{Conn: c, Opts: eo}
	var ls *engine.ListSender
	if sums == nil {
		// Each entry goes out as the walk makes it, as in rsync, and the
		// receiver decodes meanwhile; sums computed ahead would not be
		// there yet.
		var err error
		if ls, err = s.StartFileList(&fo); err != nil {
			return nil, err
		}
		wo.Added = ls.Add
	}
	list, err := flist.Build(srcs, wo)
	if sums != nil {
		sums.Wait()
	}
	if err != nil {
		return nil, err
	}
	ioErr := list.IOError
	s.List = list
	// rsync reports at least 1 ms. rsync: flist.c send_file_list
	s.Stats.FlistBuildTime = max(1, time.Since(buildStart).Milliseconds())
	s.Open = func(e *flist.Entry) (*os.File, error) { return openSource(list, e) }
	if eo.Select.RemoveSource != 0 {
		watchSuccess(c, eo, list)
	}
	if ls == nil {
		err = s.SendFileList(&fo, ioErr)
	} else {
		err = ls.End(ioErr)
	}
	if err != nil {
		return nil, err
	}
	if progress {
		c.Log.Info("done\n")
	}
	list.SortAndClean(proto, false)
	engine.CountList(list, &s.Stats)
	uncountMissing(list, &s.Stats)
	if len(list.Entries) == 0 && server {
		// rsync's server sender stops once an empty list is out.
		// rsync: main.c do_server_sender
		return &s.Stats, c.Result(ioErr)
	}
	err = s.Run(server)
	s.Stats.TotalWritten, s.Stats.TotalRead = c.BytesWritten(), c.BytesRead()
	return &s.Stats, err
}

// receiveSide receives the file list into dst and runs generator and receiver.
func receiveSide(c *engine.Conn, eo *engine.Options, dst string, server bool, ff *filesFrom) (*engine.Stats, error) {
	rs := &engine.Receiving{Conn: c, Opts: eo}
	fo := flistOptions(c.Session, eo)
	progress := !server && eo.Verbose > 0 && !eo.Quiet
	if progress {
		c.Log.Info("receiving file list ... ")
	}
	ff.start(c)
	if err := rs.RecvFileList(&fo); err != nil {
		return nil, err
	}
	if err := ff.wait(); err != nil {
		return nil, err
	}
	if !server {
		if err := rejectExcluded(rs.List, eo.SentRules, c.Session.Protocol, eo.SentCVS); err != nil {
			return nil, err
		}
		if err := rejectUnrequested(rs.List, eo.Requested); err != nil {
			return nil, err
		}
	}
	finishList(rs, eo)
	if progress {
		c.Log.Info("done\n")
	}
	if len(rs.List.Entries) == 0 && !server {
		// Nothing to receive: rsync's client skips the transfer and
		// reports only the sender's I/O errors. rsync: main.c client_run
		rs.Stats.TotalWritten, rs.Stats.TotalRead = c.BytesWritten(), c.BytesRead()
		return &rs.Stats, c.Result(0)
	}
	if eo.Select.ListOnly {
		// rsync's get_local_name touches nothing when only listing.
		rs.DryRunMissing = true
		err := rs.Run(server)
		return &rs.Stats, err
	}
	if eo.Select.Mkpath {
		if err := mkpath(c, rs.List, dst, eo); err != nil {
			return nil, err
		}
	}
	root, local, created, err := localName(rs.List, dst, eo)
	if err != nil {
		return nil, err
	}
	if created && eo.Verbose > 0 {
		c.Log.Info(fmt.Sprintf("created directory %s\n", strings.TrimSuffix(dst, "/")))
	}
	rs.RootCreated = created
	if root == nil {
		rs.DryRunMissing = true // a dry run into a directory that is not there
	} else {
		defer root.Close()
	}
	rs.Root, rs.LocalName = root, local
	err = rs.Run(server)
	return &rs.Stats, err
}

// localName opens the destination as rsync's get_local_name decides: an
// existing directory, a directory to create, or a single file's new name.
func localName(list *flist.List, dst string, eo *engine.Options) (root *fsys.Root, name string, created bool, err error) {
	if dst == "" {
		dst = "."
	}
	n := 0
	for _, e := range list.Entries {
		if e.Active() {
			n++
		}
	}
	st, serr := os.Stat(dst)
	err = serr
	trailing := strings.HasSuffix(dst, "/")
	if err == nil {
		if st.IsDir() {
			r, err := fsys.OpenRoot(dst)
			if err != nil {
				return nil, "", false, &engine.ExitError{Code: engine.ExitFileSelect, Msg: fmt.Sprintf("change_dir#1 %q failed: %v", dst, err)}
			}
			return r, "", false, nil
		}
		if n > 1 {
			return nil, "", false, &engine.ExitError{Code: engine.ExitFileSelect, Msg: "ERROR: destination must be a directory when copying more than 1 file"}
		}
		if n == 1 && list.Entries[0].IsDir() {
			return nil, "", false, &engine.ExitError{Code: engine.ExitFileSelect, Msg: "ERROR: cannot overwrite non-directory with a directory"}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, "", false, &engine.ExitError{Code: engine.ExitFileSelect, Msg: fmt.Sprintf("ERROR: cannot stat destination %q: %v", dst, errors.Unwrap(err))}
	}
	if n > 1 || trailing {
		d := strings.TrimSuffix(dst, "/")
		if err == nil {
			return nil, "", false, &engine.ExitError{Code: engine.ExitSyntax, Msg: "ERROR: destination path is not a directory"}
		}
		if eo.DryRun {
			// rsync's dry_run++: report everything as new, touch nothing.
			return nil, "", true, nil
		}
		if err := os.Mkdir(d, 0o777); err != nil {
			return nil, "", false, &engine.ExitError{Code: engine.ExitFileIO, Msg: fmt.Sprintf("mkdir %q failed: %v", d, errors.Unwrap(err))}
		}
		r, err := fsys.OpenRoot(d)
		if err != nil {
			return nil, "", false, &engine.ExitError{Code: engine.ExitFileSelect, Msg: fmt.Sprintf("change_dir#2 %q failed: %v", d, err)}
		}
		return r, "", true, nil
	}
	dir, base := filepath.Split(dst)
	if dir == "" {
		dir = "."
	}
	r, err := fsys.OpenRoot(dir)
	if err != nil && eo.DryRun && eo.Select.Mkpath {
		// --mkpath would have made the parent; a dry run did not.
		return nil, base, false, nil
	}
	if err != nil {
		return nil, "", false, &engine.ExitError{Code: engine.ExitFileSelect, Msg: fmt.Sprintf("change_dir#3 %q failed: %v", dir, err)}
	}
	return r, base, false, nil
}

// clientFailed tells the server that the client is stopping with an error,
// so that the server exits quietly with the same code instead of reporting a
// broken connection, and waits (briefly) for it to hang up.
// rsync: cleanup.c _exit_cleanup, io.c noop_io_until_death.
func clientFailed(c *engine.Conn, err error) {
	if err == nil || endOfRun(err) || c.Mux == nil {
		return
	}
	var pe *engine.PeerExitError
	code := exitCode(err)
	if errors.As(err, &pe) || code == engine.ExitSocketIO || code == engine.ExitStreamIO {
		return
	}
	if c.SendMsgInt(wire.MsgErrorExit, int32(code)) != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c.R)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// endOfRun reports whether err is a finished run's verdict (some files
// failed or vanished) rather than an aborted run; rsync still prints its
// summary for those.
func endOfRun(err error) bool {
	var ee *engine.ExitError
	return errors.As(err, &ee) && (ee == engine.ErrPartial || ee == engine.ErrVanished || ee.Code == engine.ExitDelLimit)
}

// summary prints -v and --stats output on the client.
func summary(o *options.Options, env Env, c *engine.Conn, st *engine.Stats, start time.Time) {
	level := 0
	if o.Verbose > 0 {
		level = 1
	}
	if o.Stats {
		level = 2
	}
	if level == 0 || o.Quiet > 0 {
		return
	}
	report.WriteSummary(env.Stdout, st, report.SummaryOptions{
		Level: level, Protocol: c.Session.Protocol, Human: o.HumanReadable,
		DryRun: o.DryRun, Start: start, End: time.Now(),
	})
}

// openSource opens a list entry's file on the sender's disk without
// following a final symlink that may have replaced it since the walk.
func openSource(list *flist.List, e *flist.Entry) (*os.File, error) {
	root := ""
	if e.Root >= 0 && int(e.Root) < len(list.Roots) {
		root = list.Roots[e.Root]
	}
	path := e.Name()
	if root != "" {
		path = filepath.Join(root, path)
	}
	// A plain open and os.NewFile: os.OpenFile would also probe the
	// runtime's poller, four fcntl and an epoll_ctl per regular file,
	// which can never be polled.
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}

// reportProblem prints a walk problem as rsync's sender does.
func reportProblem(c *engine.Conn, p flist.Problem) {
	log := c.Log
	msg := p.Msg
	if p.Err != nil {
		msg += ": " + strerror(p.Err)
	}
	switch p.Severity {
	case flist.SeverityInfo:
		log.Info(msg + "\n")
	case flist.SeverityWarning:
		log.Warning(options.ProgName + ": [sender] " + msg + "\n")
	default:
		c.XferError(options.ProgName + ": [sender] " + msg + "\n")
	}
}

// strerror formats an errno as C's strerror with rsync's " (N)" suffix.
func strerror(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		s := en.Error()
		if s != "" {
			s = strings.ToUpper(s[:1]) + s[1:]
		}
		return fmt.Sprintf("%s (%d)", s, int(en))
	}
	return err.Error()
}
