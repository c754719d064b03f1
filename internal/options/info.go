package options

import (
	"fmt"
	"strconv"
	"strings"
)

// InfoFlag is one of rsync's --info flags, in rsync's own order.
// rsync: options.c info_words
type InfoFlag uint8

// The --info flags.
const (
	InfoBackup InfoFlag = iota
	InfoCopy
	InfoDel
	InfoFlist
	InfoMisc
	InfoMount
	InfoName
	InfoNonreg
	InfoProgress
	InfoRemove
	InfoSkip
	InfoStats
	InfoSymsafe
	InfoCount
)

// DebugFlag is one of rsync's --debug flags, in rsync's own order.
// gorsync prints none of rsync's debugging output; it accepts the flags and
// passes them to an upstream server, as rsync does. rsync: options.c
// debug_words
type DebugFlag uint8

// The --debug flags.
const (
	DebugACL DebugFlag = iota
	DebugBackup
	DebugBind
	DebugChdir
	DebugConnect
	DebugCmd
	DebugDel
	DebugDeltasum
	DebugDup
	DebugExit
	DebugFilter
	DebugFlist
	DebugFuzzy
	DebugGenr
	DebugHash
	DebugHlink
	DebugIconv
	DebugIO
	DebugNstr
	DebugOwn
	DebugProto
	DebugRecv
	DebugSend
	DebugTime
	DebugCount
)

// Where an output flag matters: rsync's W_* bits, which decide the flags a
// client passes to its server.
const (
	wCli = 1 << iota
	wSrv
	wSnd
	wRec
)

// outputWord is one row of rsync's info_words or debug_words.
type outputWord struct {
	name  string
	where uint8
	help  string
}

var infoWords = [InfoCount]outputWord{
	{"BACKUP", wRec, "Mention files backed up"},
	{"COPY", wRec, "Mention files copied locally on the receiving side"},
	{"DEL", wRec, "Mention deletions on the receiving side"},
	{"FLIST", wCli, "Mention file-list receiving/sending (levels 1-2)"},
	{"MISC", wSnd | wRec, "Mention miscellaneous information (levels 1-2)"},
	{"MOUNT", wSnd | wRec, "Mention mounts that were found or skipped"},
	{"NAME", wSnd | wRec, "Mention 1) updated file/dir names, 2) unchanged names"},
	{"NONREG", wRec, "Mention skipped non-regular files (default 1, 0 disables)"},
	{"PROGRESS", wCli, "Mention 1) per-file progress or 2) total transfer progress"},
	{"REMOVE", wSnd, "Mention files removed on the sending side"},
	{"SKIP", wRec, "Mention files skipped due to transfer overrides (levels 1-2)"},
	{"STATS", wCli | wSrv, "Mention statistics at end of run (levels 1-3)"},
	{"SYMSAFE", wSnd | wRec, "Mention symlinks that are unsafe"},
}

var debugWords = [DebugCount]outputWord{
	{"ACL", wSnd | wRec, "Debug extra ACL info"},
	{"BACKUP", wRec, "Debug backup actions (levels 1-2)"},
	{"BIND", wCli, "Debug socket bind actions"},
	{"CHDIR", wCli | wSrv, "Debug when the current directory changes"},
	{"CONNECT", wCli, "Debug connection events (levels 1-2)"},
	{"CMD", wCli, "Debug commands+options that are issued (levels 1-2)"},
	{"DEL", wRec, "Debug delete actions (levels 1-3)"},
	{"DELTASUM", wSnd | wRec, "Debug delta-transfer checksumming (levels 1-4)"},
	{"DUP", wRec, "Debug weeding of duplicate names"},
	{"EXIT", wCli | wSrv, "Debug exit events (levels 1-3)"},
	{"FILTER", wSnd | wRec, "Debug filter actions (levels 1-3)"},
	{"FLIST", wSnd | wRec, "Debug file-list operations (levels 1-4)"},
	{"FUZZY", wRec, "Debug fuzzy scoring (levels 1-2)"},
	{"GENR", wRec, "Debug generator functions"},
	{"HASH", wSnd | wRec, "Debug hashtable code"},
	{"HLINK", wSnd | wRec, "Debug hard-link actions (levels 1-3)"},
	{"ICONV", wCli | wSrv, "Debug iconv character conversions (levels 1-2)"},
	{"IO", wCli | wSrv, "Debug I/O routines (levels 1-4)"},
	{"NSTR", wCli | wSrv, "Debug negotiation strings"},
	{"OWN", wRec, "Debug ownership changes in users & groups (levels 1-2)"},
	{"PROTO", wCli | wSrv, "Debug protocol information"},
	{"RECV", wRec, "Debug receiver functions"},
	{"SEND", wSnd, "Debug sender functions"},
	{"TIME", wRec, "Debug setting of modified times (levels 1-2)"},
}

// infoVerbosity and debugVerbosity are the flags each -v level adds.
// rsync: options.c info_verbosity, debug_verbosity
var (
	infoVerbosity = [...]string{
		"NONREG",
		"COPY,DEL,FLIST,MISC,NAME,STATS,SYMSAFE",
		"BACKUP,MISC2,MOUNT,NAME2,REMOVE,SKIP",
		"", "", "",
	}
	debugVerbosity = [...]string{
		"",
		"",
		"BIND,CMD,CONNECT,DEL,DELTASUM,DUP,FILTER,FLIST,ICONV",
		"ACL,BACKUP,CONNECT2,DELTASUM2,DEL2,EXIT,FILTER2,FLIST2,FUZZY,GENR,OWN,RECV,SEND,TIME",
		"CMD2,DELTASUM3,DEL3,EXIT2,FLIST3,ICONV2,OWN2,PROTO,TIME2",
		"CHDIR,DELTASUM4,FLIST4,FUZZY2,HASH,HLINK",
	}
)

// maxOutLevel is the largest N of a flagN word. rsync: options.c MAX_OUT_LEVEL
const maxOutLevel = 4

// Priorities of a flag's level: a -v level or other implied setting never
// overrides what --info or --debug said. rsync: options.c *_PRIORITY
const (
	defaultPriority uint8 = iota
	helpPriority
	userPriority
)

// outputLevels is the state of one flag family while parsing: each flag's
// level and the priority that set it.
type outputLevels struct {
	words []outputWord
	opt   string // "--info" or "--debug"
	level []int8
	prio  []uint8
}

func newOutputLevels(words []outputWord, opt string) outputLevels {
	return outputLevels{words: words, opt: opt, level: make([]int8, len(words)), prio: make([]uint8, len(words))}
}

// OutputWordError is an --info or --debug item rsync does not know; rsync
// reports it without its usual "rsync: " prefix.
type OutputWordError struct {
	Opt  string // "--info" or "--debug"
	Item string
}

func (e *OutputWordError) Error() string {
	return fmt.Sprintf("Unknown %s item: %q", e.Opt, e.Item)
}

// ExitCode is rsync's RERR_SYNTAX.
func (e *OutputWordError) ExitCode() int { return 1 }

// errOutputHelp is parse's signal that an item was "help": the caller
// prints the table and stops.
type errOutputHelp struct{}

func (errOutputHelp) Error() string { return "help" }

// parse applies a comma-separated list of flag words at priority. A server
// ignores unknown words, as a newer client may send them.
// rsync: options.c parse_output_words
func (l *outputLevels) parse(str string, priority uint8, server bool) error {
	for _, w := range strings.Split(str, ",") {
		if w == "" {
			continue
		}
		name, lev := w, 1
		if !isDigitByte(w[0]) {
			name = strings.TrimRight(w, "0123456789")
			if digits := w[len(name):]; digits != "" {
				n, err := strconv.Atoi(digits)
				if err != nil || n > maxOutLevel {
					n = maxOutLevel
				}
				lev = n
			}
		}
		all := false
		switch {
		case strings.EqualFold(name, "help"):
			return errOutputHelp{}
		case strings.EqualFold(name, "none"):
			all, lev = true, 0
		case strings.EqualFold(name, "all"):
			all = true
		}
		found := false
		for j := range l.words {
			if !all && !strings.EqualFold(name, l.words[j].name) {
				continue
			}
			if priority >= l.prio[j] {
				l.prio[j], l.level[j] = priority, int8(lev)
			}
			found = true
			if !all {
				break
			}
		}
		if !found && !server {
			return &OutputWordError{Opt: l.opt, Item: name}
		}
	}
	return nil
}

// setVerbosity applies the flags -v levels 0 to verbose imply.
// rsync: options.c set_output_verbosity
func (l *outputLevels) setVerbosity(table []string, verbose int) {
	for j := 0; j <= verbose && j < len(table); j++ {
		l.parse(table[j], defaultPriority, true)
	}
}

// option renders the flags not implied by -v (those given with --info or
// --debug) that matter where, as "--info=..." or "--debug=...", "" if
// none: what a client passes to its server, and what the help lists per
// verbosity level. rsync: options.c make_output_option
func (l *outputLevels) option(where uint8) string {
	var counts [maxOutLevel + 1]int
	skipped, max, lev, n := 0, 0, 0, 0
	for j, w := range l.words {
		if w.where&where == 0 {
			continue
		}
		if l.prio[j] == defaultPriority {
			skipped++
			continue
		}
		n++
		if l.prio[j] == helpPriority {
			continue // no abbreviating for help
		}
		if counts[l.level[j]]++; counts[l.level[j]] > max {
			lev, max = int(l.level[j]), counts[l.level[j]]
		}
	}
	if n == 0 {
		return ""
	}
	var items []string
	if skipped > 0 || max < 5 {
		lev = -1
	} else {
		switch lev {
		case 0:
			items = append(items, "NONE")
		case 1:
			items = append(items, "ALL")
		default:
			items = append(items, "ALL"+strconv.Itoa(lev))
		}
	}
	for j, w := range l.words {
		if l.prio[j] == defaultPriority || int(l.level[j]) == lev || w.where&where == 0 {
			continue
		}
		item := w.name
		if l.level[j] != 1 {
			item += strconv.Itoa(int(l.level[j]))
		}
		items = append(items, item)
	}
	return l.opt + "=" + strings.Join(items, ",")
}

// help is rsync's --info=help or --debug=help text.
// rsync: options.c output_item_help
func (l *outputLevels) help(verbosity []string) string {
	var b strings.Builder
	b.WriteString("Use OPT or OPT1 for level 1 output, OPT2 for level 2, etc.; OPT0 silences.\n\n")
	for _, w := range l.words {
		fmt.Fprintf(&b, "%-10s %s\n", w.name, w.help)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "%-10s %s\n", "ALL", fmt.Sprintf("Set all %s options (e.g. all%d)", l.opt, maxOutLevel))
	fmt.Fprintf(&b, "%-10s %s\n", "NONE", fmt.Sprintf("Silence all %s options (same as all0)", l.opt))
	fmt.Fprintf(&b, "%-10s %s\n", "HELP", "Output this help message")
	b.WriteString("\nOptions added at each level of verbosity:\n")
	for j, v := range verbosity {
		fresh := newOutputLevels(l.words, l.opt)
		fresh.parse(v, helpPriority, true)
		if opt := fresh.option(wCli | wSrv | wSnd | wRec); opt != "" {
			fmt.Fprintf(&b, "%d) %s\n", j, opt[len(l.opt)+1:])
		}
	}
	return b.String()
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

// Msgs2Stderr is rsync's msgs2stderr: where messages go.
type Msgs2Stderr int8

// Msgs2Stderr values; the zero value is rsync's default.
const (
	StderrErrors Msgs2Stderr = iota // --stderr=errors: errors to stderr (the default)
	StderrAll                       // --stderr=all, --msgs2stderr: all messages to stderr
	StderrClient                    // --stderr=client, --no-msgs2stderr: a server sends its messages to the client
)

// parseStderr reads --stderr's value, any prefix of a mode name.
// rsync: options.c parse_arguments (OPT_STDERR)
func parseStderr(val string) (Msgs2Stderr, error) {
	for _, m := range []struct {
		name string
		mode Msgs2Stderr
	}{{"errors", StderrErrors}, {"all", StderrAll}, {"client", StderrClient}} {
		if val != "" && strings.HasPrefix(m.name, val) {
			return m.mode, nil
		}
	}
	return 0, &UsageError{Reason: fmt.Sprintf("--stderr mode %q is not one of errors, all, or client", val)}
}

// OutBuf is --outbuf's buffering of standard output.
type OutBuf byte

// OutBuf values; the zero value leaves the default.
const (
	OutBufDefault OutBuf = 0
	OutBufNone    OutBuf = 'N'
	OutBufLine    OutBuf = 'L'
	OutBufBlock   OutBuf = 'B'
)

// parseOutBuf reads --outbuf's value by its first letter.
// rsync: options.c parse_arguments (outbuf_mode)
func parseOutBuf(val string) (OutBuf, error) {
	var c byte
	if val != "" {
		c = val[0]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
	}
	switch c {
	case 'N', 'U':
		return OutBufNone, nil
	case 'L':
		return OutBufLine, nil
	case 'B', 'F':
		return OutBufBlock, nil
	}
	return 0, &UsageError{Reason: "Invalid --outbuf setting -- specify N, L, or B."}
}

// applyOutput performs --info, --debug, --stderr, --msgs2stderr,
// --no-msgs2stderr and --outbuf. rsync: options.c parse_arguments
func (p *parser) applyOutput(s *optSpec, val string) error {
	o := p.o
	switch s.id {
	case optInfo, optDebug:
		l, verbosity := &o.info, infoVerbosity[:]
		if s.id == optDebug {
			l, verbosity = &o.debug, debugVerbosity[:]
		}
		err := l.parse(val, userPriority, o.Server)
		if _, ok := err.(errOutputHelp); ok {
			// rsync prints the table and exits at once.
			o.OutputHelp = l.help(verbosity)
			p.next = len(p.args)
			return nil
		}
		return err
	case optStderr:
		m, err := parseStderr(val)
		if err != nil {
			err.(*UsageError).Server = o.Server
			return err
		}
		o.Msgs2Stderr = m
	case optMsgs2Stderr:
		o.Msgs2Stderr = StderrAll
	case optNoMsgs2Stderr:
		o.Msgs2Stderr = StderrClient
	case optOutBuf:
		p.outbuf, p.outbufSet = val, true
	}
	return nil
}

// finishOutput validates --outbuf and derives the flag levels -v, --stats
// and --progress imply, below what --info and --debug said.
// rsync: options.c parse_arguments (after the option loop)
func (p *parser) finishOutput() error {
	o := p.o
	if p.outbufSet && !o.Server {
		m, err := parseOutBuf(p.outbuf)
		if err != nil {
			return err
		}
		o.OutBuf = m
	}
	o.info.setVerbosity(infoVerbosity[:], o.Verbose)
	o.debug.setVerbosity(debugVerbosity[:], o.Verbose)
	if o.Stats {
		stats := "stats2"
		if o.Verbose > 1 {
			stats = "stats3"
		}
		o.info.parse(stats, defaultPriority, true)
	}
	if o.Progress > 0 && !o.Server {
		if o.info.level[InfoName] == 0 {
			o.info.parse("name", defaultPriority, true)
		}
		o.info.parse("FLIST2,PROGRESS", defaultPriority, true)
	}
	copy(o.Info[:], o.info.level)
	copy(o.Debug[:], o.debug.level)
	o.Progress = int(o.Info[InfoProgress])
	return nil
}

// InfoGTE reports whether --info flag f is at level lvl or above.
// rsync: rsync.h INFO_GTE
func (o *Options) InfoGTE(f InfoFlag, lvl int) bool { return int(o.Info[f]) >= lvl }

// outputArgs adds the --info flags the user set that matter to the server,
// which receives when localSender. rsync sends no --debug flags.
// rsync: options.c server_options (make_output_option)
func (o *Options) outputArgs(args []string, localSender bool) []string {
	where := uint8(wSrv | wSnd)
	if localSender {
		where = wSrv | wRec
	}
	if o.info.words == nil {
		return args
	}
	if a := o.info.option(where); a != "" {
		args = append(args, a)
	}
	return args
}

// msgs2stderrArg passes a --stderr choice other than the default on to the
// server. rsync: options.c server_options
func (o *Options) msgs2stderrArg(args []string) []string {
	switch o.Msgs2Stderr {
	case StderrAll:
		args = append(args, "--msgs2stderr")
	case StderrClient:
		args = append(args, "--no-msgs2stderr")
	}
	return args
}
