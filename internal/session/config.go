package session

import (
	"fmt"
	"io"
	"os"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/transport"
)

// Role is the part this process plays in a transfer.
type Role int8

// The roles. A client starts the transfer; a server is started by one (over a
// remote shell or a daemon socket); a local copy is both ends in one process.
const (
	// Local copies between two local paths: sender and receiver run as
	// goroutines connected in memory.
	Local Role = iota
	// Push is a client that sends its local sources to a server.
	Push
	// Pull is a client that receives from a server into a local
	// destination.
	Pull
	// ServerSender is "rsync --server --sender": it sends to its client.
	ServerSender
	// ServerReceiver is "rsync --server": it receives from its client.
	ServerReceiver
)

func (r Role) String() string {
	switch r {
	case Local:
		return "local copy"
	case Push:
		return "client sender"
	case Pull:
		return "client receiver"
	case ServerSender:
		return "server sender"
	case ServerReceiver:
		return "server receiver"
	}
	return "unknown role"
}

// server reports whether r was started by a client.
func (r Role) server() bool { return r == ServerSender || r == ServerReceiver }

// Env is the process environment one transfer sees: its standard streams
// and its environment variables. Embedders and tests give their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// filled returns e with the process's own streams and environment where e
// has none.
func (e Env) filled() Env {
	if e.Stdin == nil {
		e.Stdin = os.Stdin
	}
	if e.Stdout == nil {
		e.Stdout = os.Stdout
	}
	if e.Stderr == nil {
		e.Stderr = os.Stderr
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	return e
}

// Config is everything one transfer needs to know, derived once from the
// parsed command line by NewConfig. Every package's own options are made
// from it here, in this file, and nowhere else; nothing in it is shared
// between transfers, so one process can run many at once.
type Config struct {
	// Role is what this side does.
	Role Role
	// logFile is the open --log-file (nil for none).
	logFile *os.File
	// Opts is the parsed command line. The session reads it only through
	// the derivations below and for what it passes on unchanged (the
	// server's argv, the summary's verbosity).
	Opts *options.Options
	// Env is where messages go and the environment is read from.
	Env Env
	// IO says which fast paths are on (GORSYNC_FASTIO, else the
	// defaults).
	IO fastio.Config
	// Hooks are the engine's test hooks; only tests set them.
	Hooks engine.Hooks
	// OnFile, when set, is called on the client as each file's transfer
	// ends (the public API's progress callback).
	OnFile func(engine.FileEvent)

	// Remote is a pushing or pulling client's server; RemotePaths the
	// paths it names there (a push's destination, a pull's sources).
	Remote      transport.Location
	RemotePaths []string
	// Sources are the local sources of a push or a local copy.
	Sources []string
	// Dest is the local destination of a pull or a local copy, and a
	// receiving server's destination argument.
	Dest string

	engine *engine.Options // the roles' options; see engineOptions
	// rules are a client's command-line filter rules, parsed once; each
	// role works on a Clone.
	rules *filter.List
	// watch is the running transfer's --timeout and --stop-at clock, set
	// on Run's own copy of the Config (limits.go).
	watch *watch
}

// NewConfig derives a transfer's configuration from a parsed command line.
// For a client it decides the role from the arguments, as rsync's
// start_client does: a remote source pulls, a remote destination pushes,
// two local paths copy locally. rsync: main.c start_client
func NewConfig(o *options.Options, env Env) (*Config, error) {
	cfg, err := newConfig(o, env)
	if err != nil {
		return nil, err
	}
	if err := cfg.where(); err != nil {
		return nil, err
	}
	cfg.engine = engineOptions(o, cfg.Role == Local)
	if err := checkLimits(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// newConfig is what every Config starts from: the environment, the fast
// paths, and the checks rsync makes while it parses options.
func newConfig(o *options.Options, env Env) (*Config, error) {
	env = env.filled()
	io, err := fastio.ParseConfig(env.Getenv(fastio.Env))
	if err != nil {
		return nil, &options.UsageError{Reason: err.Error(), Server: o.Server}
	}
	cfg := &Config{Opts: o, Env: env, IO: io}
	if !o.Server {
		if len(o.Args) == 0 {
			return nil, errNoArgs
		}
		// rsync parses filter rules (reading an --exclude-from list to
		// its end, standard input and FIFOs included) and opens a
		// --files-from file with the options, before it connects; each
		// role gets a copy of the one parse. Only -C's default list
		// depends on the protocol (perishable from 30), and only where a
		// rule names -C: it is parsed for the protocol this side offers.
		// rsync: options.c parse_arguments
		p := protocol.MaxVersion
		if o.Protocol != 0 {
			p = o.Protocol
		}
		if cfg.rules, err = buildFilters(cfg, p, env.Stdin); err != nil {
			return nil, err
		}
		if err := checkFilesFrom(o); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// where sets the role and the paths from the positional arguments.
func (cfg *Config) where() error {
	o := cfg.Opts
	args := o.Args
	if o.Server {
		if len(args) > 0 && args[0] == "." {
			args = args[1:] // the placeholder every client sends
		}
		if o.Sender {
			cfg.Role, cfg.Sources = ServerSender, args
			return nil
		}
		cfg.Role, cfg.Dest = ServerReceiver, "."
		if len(args) > 0 {
			cfg.Dest = args[0]
		}
		return nil
	}
	if o.ReadBatch {
		// The batch is the source; the one path is the destination.
		// rsync: main.c start_client (read_batch)
		last := args[len(args)-1]
		if transport.Parse(last).Remote() {
			return &exitcode.Error{Code: exitcode.Syntax, Msg: "remote destination is not allowed with --read-batch"}
		}
		cfg.Role, cfg.Dest = Local, last
		return nil
	}
	if len(args) == 1 {
		// A lone source is listed: into "." locally, as rsync does.
		args = []string{args[0], "."}
	}
	srcs, last := args[:len(args)-1], args[len(args)-1]
	dst := transport.Parse(last)
	first := transport.Parse(srcs[0])
	if first.Daemon || dst.Daemon {
		return &options.UsageError{Reason: "rsync daemon connections (host::module, rsync://) are not supported by this version of gorsync yet"}
	}
	switch {
	case first.Remote():
		if dst.Remote() {
			return &options.UsageError{Reason: "The source and destination cannot both be remote."}
		}
		paths := []string{first.Path}
		for _, s := range srcs[1:] {
			l := transport.Parse(s)
			if l.Remote() && (l.Host != first.Host || l.User != first.User) {
				return &options.UsageError{Reason: "all source arguments must come from the same host"}
			}
			if l.Remote() {
				paths = append(paths, l.Path)
			} else {
				paths = append(paths, s)
			}
		}
		cfg.Role, cfg.Remote, cfg.RemotePaths, cfg.Dest = Pull, first, paths, last
		return nil
	}
	for _, s := range srcs[1:] {
		if transport.Parse(s).Remote() {
			return &options.UsageError{Reason: "The source and destination cannot both be remote."}
		}
	}
	if dst.Remote() {
		cfg.Role, cfg.Remote, cfg.RemotePaths, cfg.Sources = Push, dst, []string{dst.Path}, srcs
		return nil
	}
	if o.FilesFromRemote {
		return &exitcode.Error{Code: exitcode.Syntax, Msg: "--files-from cannot be remote when the transfer is local"}
	}
	cfg.Role, cfg.Sources, cfg.Dest = Local, srcs, last
	return nil
}

// engineOptions returns a fresh copy of the roles' options; the session
// adds what only the running transfer knows (the receiver's filter rules,
// a local copy's hand-off).
func (cfg *Config) engineOptions() *engine.Options {
	eo := *cfg.engine
	eo.IO, eo.Hooks, eo.OnFile = cfg.IO, cfg.Hooks, nil
	if !cfg.Role.server() {
		eo.OnFile = cfg.OnFile
	}
	return &eo
}

// engineOptions converts command-line options into the roles' options.
func engineOptions(o *options.Options, local bool) *engine.Options {
	// A batch being written records deltas, even locally. rsync: main.c do_cmd
	whole := o.WholeFile == options.On || (o.WholeFile == options.Unset && local && o.WriteBatch == 0)
	eo := &engine.Options{
		Recursive: o.Recursive, Dirs: o.TransferDirs(),
		Links: o.Links, Perms: o.Perms, Times: o.Times, Group: o.Group, Owner: o.Owner,
		Devices: o.Devices, Specials: o.Specials,
		WholeFile: whole, DryRun: o.DryRun, AlwaysChecksum: o.Checksum,
		IgnoreTimes: o.IgnoreTimes, SizeOnly: o.SizeOnly, NumericIDs: o.NumericIDs,
		Quiet: o.Quiet > 0, Info: infoLevels(o),
		Out:           outFormat(o, local),
		LogFormat:     logFormat(o, local),
		CompressLevel: compressLevel(o),
		Relative:      o.Relative, ImpliedDirs: o.ImpliedDirs, PruneEmptyDirs: o.PruneEmptyDirs,
		OneFileSystem: o.OneFileSystem,
		Select:        selectOptions(o, local),
		Force:         o.Force, IgnoreErrors: o.IgnoreErrors,
		MissingArgs: missingArgs(o.MissingArgs),
		LimitDelete: o.MaxDeleteSet, MaxDelete: o.MaxDelete,
		Delete: deleteMode(o),

		MaxAlloc: o.AllocLimit(),
	}
	return eo
}

// infoLevels picks the --info levels the roles print by.
func infoLevels(o *options.Options) engine.InfoLevels {
	return engine.InfoLevels{
		Name: int(o.Info[options.InfoName]), Del: int(o.Info[options.InfoDel]),
		Skip: int(o.Info[options.InfoSkip]), Remove: int(o.Info[options.InfoRemove]),
		Nonreg: int(o.Info[options.InfoNonreg]), Misc: int(o.Info[options.InfoMisc]),
		Flist: int(o.Info[options.InfoFlist]),
	}
}

// logDeleted returns the options a client prints (and logs) the server's
// deletions (MSG_DELETED) with: nil without --info=del or an out-format
// (-v, -i, --out-format) to print them, unless -q, and without a
// --log-file. rsync: log.c log_delete
func (cfg *Config) logDeleted() *engine.Options {
	if !cfg.engine.LogDeletions() && !cfg.engine.LogFormat.On {
		return nil
	}
	return cfg.engine
}

// deleteMode is the --delete option family's choice of when to delete.
func deleteMode(o *options.Options) engine.DeleteMode {
	switch {
	case o.DeleteBefore:
		return engine.DeleteBefore
	case o.DeleteDuring == options.DeleteDuringDelay:
		return engine.DeleteDelay
	case o.DeleteDuring == options.DeleteDuringOn:
		return engine.DeleteDuring
	case o.DeleteAfter:
		return engine.DeleteAfter
	case o.Delete:
		return engine.DeleteAuto
	}
	return engine.DeleteOff
}

// missingArgs is what the walk and the receiver do with a source argument
// that does not exist.
func missingArgs(m options.MissingArgs) flist.MissingArgs {
	switch m {
	case options.IgnoreMissingArgs:
		return flist.IgnoreMissing
	case options.DeleteMissingArgs:
		return flist.DeleteMissing
	}
	return flist.MissingIsError
}

// selectOptions converts the receiver-side selection, listing and
// source-removal options for the roles.
func selectOptions(o *options.Options, local bool) engine.SelectOptions {
	maxSize, minSize := o.SizeLimits()
	window := 0
	if o.ModifyWindowSet {
		window = o.ModifyWindow
	}
	remove := engine.KeepSource
	switch o.RemoveSource {
	case options.RemoveSourceFiles:
		remove = engine.RemoveSourceFiles
	case options.RemoveSentFiles:
		remove = engine.RemoveSentFiles
	}
	return engine.SelectOptions{
		MaxSize: maxSize, MinSize: minSize,
		IgnoreNonExisting: o.Existing, IgnoreExisting: o.IgnoreExisting,
		Update: o.Update, ModifyWindow: window,
		RemoveSource: remove, LocalServer: local,
		ListOnly: o.ListOnly || o.ListOnlyOpt, Human: o.HumanReadable,
		Mkpath: o.Mkpath,
	}
}

// compressLevel is --compress-level, or unspecified.
func compressLevel(o *options.Options) int {
	if o.CompressLevelSet {
		return o.CompressLevel
	}
	return delta.LevelUnspecified
}

// protocolConfig is what this side brings to the connection's set-up. A
// local copy's receiving half is a server that was told every capability
// gorsync has, as rsync's local server is.
func (cfg *Config) protocolConfig(server, sender bool) protocol.Config {
	o := cfg.Opts
	compress, choice := o.Compression()
	p := protocol.MaxVersion
	if o.Protocol != 0 {
		p = o.Protocol
	}
	info := o.ClientInfo
	if cfg.Role == Local && server {
		// What this process's client side offered (remoteCommand's).
		info = protocol.ClientInfo(cfg.allowIncRecurse(true))
	}
	csumEnv, compEnv := cfg.Env.Getenv("RSYNC_CHECKSUM_LIST"), cfg.Env.Getenv("RSYNC_COMPRESS_LIST")
	if o.WriteBatch != 0 && (!server || cfg.Role == Local) {
		// A batch holds what a reader can take without negotiating.
		// rsync: compat.c getenv_nstr
		csumEnv, compEnv = "md5 md4", "zlib" // md4 is what protocol 29 implies
	}
	return protocol.Config{
		AmServer: server, AmSender: sender, Protocol: p,
		ClientInfo: info, ChecksumChoice: o.ChecksumChoice,
		ChecksumEnv: csumEnv,
		Compress:    compress, CompressChoice: choice,
		CompressEnv: compEnv,

		GeneratorMessages: o.RemoveSource != options.KeepSource,
		IO:                cfg.IO,
		IncRecurse:        cfg.allowIncRecurse(sender),
		BwLimit:           o.BwLimit,
		Clock:             cfg.watch.ioClock(),
	}
}

// Incremental recursion is built one role at a time; a role offers and
// accepts it only once it does it. rsync: compat.c set_allow_inc_recurse
const (
	incRecurseSender   = true
	incRecurseReceiver = true
)

// allowIncRecurse is rsync's allow_inc_recurse for this side sending or
// receiving: only with -r and without --no-inc-recursive, and a receiver
// refuses it for the options that need the whole list (--delete-before,
// --delete-after, -m). A server also needs the client's 'i' (checked in
// protocol.Setup). rsync: compat.c set_allow_inc_recurse
func (cfg *Config) allowIncRecurse(amSender bool) bool {
	o := cfg.Opts
	switch {
	case amSender && !incRecurseSender, !amSender && !incRecurseReceiver:
		return false
	case o.NoIncRecursive || !o.Recursive:
		return false
	case !amSender && (o.DeleteBefore || o.DeleteAfter || o.PruneEmptyDirs):
		return false
	}
	return true
}

// flistOptions derives the file-list encoding from the negotiated session.
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
		DeleteMissingArgs: o.MissingArgs == flist.DeleteMissing,
		RelativePaths:     o.Relative,
		MaxAlloc:          o.MaxAlloc,
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

// walkOptions are the sender's walk settings: tree shape, filters, missing
// arguments and the fast paths. With --files-from the names replace the
// arguments and the one source argument is the directory they are relative
// to; walkOptions returns the arguments the walk takes.
func walkOptions(c *engine.Conn, eo *engine.Options, srcs []string, wf *walkFilter, ff *filesFrom) (flist.WalkOptions, []string) {
	wo := flist.WalkOptions{
		Recurse: eo.Recursive, Dirs: eo.Dirs,
		Report:      func(p flist.Problem) { reportProblem(c, p) },
		MissingArgs: eo.MissingArgs,
		Relative:    eo.Relative,
		// From protocol 30 the sender always sends flagged implied dirs.
		// rsync: flist.c send_file_list
		ImpliedDirs:   eo.Relative && (eo.ImpliedDirs || c.Session.Protocol >= 30),
		OneFileSystem: eo.OneFileSystem,
		IO:            eo.IO,
	}
	wf.hooks(&wo)
	if ff == nil || ff.names == nil {
		return wo, srcs
	}
	wo.Names = ff.names
	if len(srcs) > 0 {
		wo.BaseDir = srcs[0]
	}
	return wo, nil
}

// commandLineRules are the settings this side parses its own command
// line's filter rules with; stdin serves "-" (--exclude-from=-).
func (cfg *Config) commandLineRules(protocol int, stdin io.Reader) filter.Options {
	env := cfg.Env
	return filter.Options{
		Protocol: protocol, From0: cfg.Opts.From0, Stdin: stdin, DeleteExcluded: cfg.Opts.DeleteExcluded,
		Home: env.Getenv("HOME"), CVSIgnore: env.Getenv("CVSIGNORE"),
		Warn: func(msg string) { fmt.Fprint(env.Stderr, msg) },
	}
}

// peerRules are the settings a server reads its client's rules with: who
// names this side in messages, absRoot is the directory merge files'
// absolute paths are checked against.
func (cfg *Config) peerRules(c *engine.Conn, who, absRoot string) filter.Options {
	return filter.Options{
		Protocol: c.Session.Protocol, Who: who, AbsRoot: absRoot,
		// -C's list takes $CVSIGNORE on whichever side builds it.
		Home: cfg.Env.Getenv("HOME"), CVSIgnore: cfg.Env.Getenv("CVSIGNORE"),
		DeleteExcluded: cfg.Opts.DeleteExcluded,
		Warn:           func(msg string) { c.Log.Warning(msg) },
	}
}

// outFormat derives what a side prints per entry. A local copy's sender
// itemizes its files as received ('>'), as rsync's local_server does.
func outFormat(o *options.Options, local bool) engine.OutFormat {
	format, on, hasI, hasOorI := o.StdoutFormat()
	before := on && !options.FormatHas(format, 'b') && !options.FormatHas(format, 'c') && !options.FormatHas(format, 'C')
	return engine.OutFormat{On: on, Format: format, HasI: hasI, HasOorI: hasOorI, Before: before, LocalCopy: local}
}

// logFormat derives what a client records per entry in its --log-file.
func logFormat(o *options.Options, local bool) engine.OutFormat {
	format, on, hasI, hasOorI := o.LogFormat()
	if o.Server {
		on = false
	}
	n := 0
	if hasI {
		n = 1
	}
	return engine.OutFormat{On: on, Format: format, HasI: n, HasOorI: hasOorI, LocalCopy: local}
}
