package filter

import (
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gorsync/gorsync/internal/fsys"
)

// Parsing flags, rsync's XFLG_* (rsync.h).
const (
	xFatalErrors  = 1 << 0 // an unreadable file is fatal
	xOldPrefixes  = 1 << 1 // only "+ ", "- " and "!" prefixes (--include, --exclude)
	xAnchored2Abs = 1 << 2 // a leading '/' anchors at the merge file's directory
)

// Limits from rsync.h on Linux.
const (
	maxPathLen    = 4096              // MAXPATHLEN
	bigPathBufLen = maxPathLen + 1024 // BIGPATHBUFLEN: longest rule line or wire rule
	maxMergeDepth = 32                // MAX_MERGE_DEPTH
)

// FS reads merge files, --exclude-from files and .cvsignore files.
// Names are slash-separated, relative or absolute.
type FS interface {
	ReadFile(name string) ([]byte, error)
}

// Namer is an FS that can give the full path of a name it reads, for
// messages (see List.NewStack).
type Namer interface {
	FS
	FullPath(name string) string
}

// OSFS reads files from the operating system, resolving relative names
// against Dir (the process's working directory when Dir is empty).
type OSFS struct {
	Dir string
}

// FullPath implements Namer: name's absolute, clean path.
func (f OSFS) FullPath(name string) string {
	if f.Dir != "" && !strings.HasPrefix(name, "/") {
		name = filepath.Join(f.Dir, filepath.FromSlash(name))
	}
	if abs, err := filepath.Abs(name); err == nil {
		return filepath.ToSlash(abs)
	}
	return name
}

// ReadFile implements FS. Like rsync 3.5.0, it follows a symbolic link
// on the way only if root or this process's user owns it (see
// fsys.OpenTrusted).
func (f OSFS) ReadFile(name string) ([]byte, error) {
	if f.Dir != "" && !strings.HasPrefix(name, "/") {
		name = filepath.Join(f.Dir, filepath.FromSlash(name))
	}
	file, err := fsys.OpenTrusted(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	b, err := io.ReadAll(file)
	if errors.Is(err, syscall.EISDIR) {
		// rsync's fopen succeeds on a directory and reads nothing.
		return nil, nil
	}
	return b, err
}

// Options says how a List reads and applies its rules.
type Options struct {
	// Protocol is the protocol in use; it decides whether -C's default
	// list is perishable (30 and later). Zero means 32.
	Protocol int
	// DeleteExcluded (--delete-excluded) makes plain include/exclude rules
	// sender-side only.
	DeleteExcluded bool
	// From0 (--from0) makes --exclude-from, --include-from and merge files
	// NUL-separated instead of line-separated.
	From0 bool
	// FS reads --exclude-from, --include-from and merge files named on the
	// command line; nil means OSFS{} (the working directory).
	FS FS
	// Stdin is read for an --exclude-from or --include-from of "-".
	Stdin io.Reader
	// Home is $HOME, whose .cvsignore -C reads ("" for none).
	Home string
	// CVSIgnore is $CVSIGNORE, added to -C's list.
	CVSIgnore string
	// AbsRoot is the absolute path of the transfer root (the directory the
	// names checked are relative to). Rules with the '/' modifier match
	// against it, and dir-merge files named by an absolute path are also
	// read from the transfer root's parents. Empty means unknown: '/'
	// rules then match like anchored ones.
	AbsRoot string
	// Warn receives rsync's non-fatal messages (over-long rules, a
	// refused symbolic link), each ending in a newline; nil drops them.
	Warn func(msg string)
	// Who names this side in messages ("client", "sender", ...); empty
	// means "client".
	Who string
}

func (o *Options) protocol() int {
	if o.Protocol == 0 {
		return 32
	}
	return o.Protocol
}

func (o *Options) fs() FS {
	if o.FS == nil {
		return OSFS{}
	}
	return o.FS
}

func (o *Options) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...) + "\n")
	}
}

// FRule returns the rule the n-th -F option adds (n is 1 or 2; "" for
// further -F options, which add nothing).
//
// rsync: options.c case 'F'
func FRule(n int) string {
	switch n {
	case 1:
		return ": /.rsync-filter"
	case 2:
		return "- .rsync-filter"
	}
	return ""
}

// ruleList is one list of rules: the command line's, one directory's
// merge-file rules, or -C's list. cleared marks that a "!" rule dropped
// what this directory would otherwise inherit.
type ruleList struct {
	rules   []*Rule
	cleared bool
}

// parser holds what rsync keeps in exclude.c's globals while reading rules.
type parser struct {
	l     *List
	st    *Stack // non-nil while reading per-directory merge files
	fs    FS
	dir   string // current directory relative to the root, "" at the root
	abs   string // prefix for rules anchored in this directory's merge files
	depth int    // merge-file nesting

	inFile bool   // reading a file's contents
	src    string // that file's name
	line   int    // its line number, -1 when word-splitting
}

func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// ruleText is the rule text for a message: the text itself when it came
// from an argument, its location when it came from a file's contents.
//
// rsync: exclude.c rule_text_len
func (p *parser) ruleText(text string) string {
	if !p.inFile {
		return text
	}
	if p.line < 0 {
		return "<rule from " + p.src + ">"
	}
	return fmt.Sprintf("<rule from %s line %d>", p.src, p.line)
}

func (p *parser) syntax(msg, rule string) error {
	return &SyntaxError{Msg: msg + ": " + p.ruleText(rule)}
}

// ruleWord matches one of the long rule names at s: it returns the index
// of the name's last character when a space, '_' or the end follows, the
// index of the ',' when modifiers follow, and -1 otherwise.
//
// rsync: exclude.c rule_strcmp
func ruleWord(s, word string) int {
	if !strings.HasPrefix(s, word) {
		return -1
	}
	n := len(word)
	c := at(s, n)
	switch {
	case c == 0 || c == '_' || isSpace(c):
		return n - 1
	case c == ',':
		return n
	}
	return -1
}

// ruleTok parses the next rule from s. It returns a nil rule at the end of
// the input, and otherwise the rule, its pattern and the rest of s.
//
// rsync: exclude.c parse_rule_tok
func (p *parser) ruleTok(s string, tmpl Flag, xflags int) (r *Rule, pat, rest string, err error) {
	if tmpl&WordSplit != 0 {
		for len(s) > 0 && isSpace(s[0]) {
			s = s[1:]
		}
	}
	if s == "" {
		return nil, "", "", nil
	}
	orig := s
	r = &Rule{Flags: tmpl & fromContainer}
	if p.inFile {
		r.Flags |= fromFile
	}
	i := 0
	switch {
	case tmpl&NoPrefixes != 0:
		if s[0] == '!' && tmpl&CVSIgnore != 0 {
			r.Flags |= ClearList // tentative
		}
	case xflags&xOldPrefixes != 0:
		switch {
		case strings.HasPrefix(s, "- "):
			r.Flags &^= Include
			i = 2
		case strings.HasPrefix(s, "+ "):
			r.Flags |= Include
			i = 2
		case s[0] == '!':
			r.Flags |= ClearList // tentative
		}
	default:
		var ch byte
		long := map[byte]struct {
			word string
			ch   byte
		}{
			'c': {"clear", '!'}, 'd': {"dir-merge", ':'}, 'e': {"exclude", '-'},
			'h': {"hide", 'H'}, 'i': {"include", '+'}, 'm': {"merge", '.'},
			'p': {"protect", 'P'}, 'r': {"risk", 'R'}, 's': {"show", 'S'},
		}
		if w, ok := long[s[0]]; ok {
			if i = ruleWord(s, w.word); i >= 0 {
				ch = w.ch
			}
		} else {
			ch = s[0]
			if at(s, 1) == ',' {
				i = 1
			}
		}
		sideByPrefix := false
		switch ch {
		case ':':
			r.Flags |= PerDirMerge | finishSetup | MergeFile
		case '.':
			r.Flags |= MergeFile
		case '+':
			r.Flags |= Include
		case '-':
		case 'S':
			r.Flags |= Include | SenderSide
			sideByPrefix = true
		case 'H':
			r.Flags |= SenderSide
			sideByPrefix = true
		case 'R':
			r.Flags |= Include | ReceiverSide
			sideByPrefix = true
		case 'P':
			r.Flags |= ReceiverSide
			sideByPrefix = true
		case '!':
			r.Flags |= ClearList
		default:
			return nil, "", "", p.syntax("Unknown filter rule", orig)
		}
		for ch != '!' {
			i++
			c := at(s, i)
			if c == 0 || c == ' ' || c == '_' {
				break
			}
			if tmpl&WordSplit != 0 && isSpace(c) {
				i--
				break
			}
			valid := true
			switch c {
			case '-', '+':
				if r.Flags&MergeFile == 0 || r.Flags&NoPrefixes != 0 {
					valid = false
					break
				}
				r.Flags |= NoPrefixes
				if c == '+' {
					r.Flags |= Include
				}
			case '/':
				r.Flags |= AbsPath
			case '!':
				// Negation goes with a pattern, not a merge file.
				if r.Flags&MergeFile != 0 {
					valid = false
					break
				}
				r.Flags |= Negate
			case 'C':
				if r.Flags&NoPrefixes != 0 || sideByPrefix {
					valid = false
					break
				}
				r.Flags |= NoPrefixes | WordSplit | NoInherit | CVSIgnore
			case 'e', 'n', 'w':
				if r.Flags&MergeFile == 0 {
					valid = false
					break
				}
				r.Flags |= map[byte]Flag{'e': ExcludeSelf, 'n': NoInherit, 'w': WordSplit}[c]
			case 'p':
				r.Flags |= Perishable
			case 'r', 's':
				if sideByPrefix {
					valid = false
					break
				}
				if c == 'r' {
					r.Flags |= ReceiverSide
				} else {
					r.Flags |= SenderSide
				}
			case 'x':
				r.Flags |= Xattr
			default:
				valid = false
			}
			if !valid {
				where := ""
				if !p.inFile {
					where = fmt.Sprintf(" '%c' at position %d", c, i)
				}
				return nil, "", "", &SyntaxError{Msg: "invalid modifier" + where +
					" in filter rule: " + p.ruleText(orig)}
			}
		}
		if at(s, i) != 0 {
			i++
		}
	}
	s = s[i:]
	if tmpl&sides != 0 {
		if r.Flags&sides != 0 {
			// A one-sided merge file's rules cannot pick a side.
			return nil, "", "", p.syntax("specified-side merge file contains specified-side filter", orig)
		}
		r.Flags |= tmpl & sides
	}
	n := len(s)
	if tmpl&WordSplit != 0 {
		n = 0
		for n < len(s) && !isSpace(s[n]) {
			n++
		}
	}
	if r.Flags&ClearList != 0 {
		if tmpl&NoPrefixes == 0 && xflags&xOldPrefixes == 0 && n != 0 {
			return nil, "", "", p.syntax("'!' rule has trailing characters", orig)
		}
		if n > 1 {
			r.Flags &^= ClearList
		}
	} else if n == 0 && r.Flags&CVSIgnore == 0 {
		return nil, "", "", p.syntax("unexpected end of filter rule", orig)
	}
	if p.l.DeleteExcluded && r.Flags&(sides|MergeFile|PerDirMerge) == 0 {
		r.Flags |= SenderSide
	}
	return r, s[:n], s[n:], nil
}

// parseStr parses the rules in s into dst.
//
// rsync: exclude.c parse_filter_str
func (p *parser) parseStr(dst *ruleList, s string, tmpl Flag, xflags int) error {
	s = cstr(s)
	for {
		r, pat, rest, err := p.ruleTok(s, tmpl, xflags)
		if err != nil || r == nil {
			return err
		}
		s = rest
		if len(pat) >= maxPathLen {
			p.l.warn("discarding over-long filter: %s", p.ruleText(pat))
			continue
		}
		if r.Flags&ClearList != 0 {
			dst.rules = nil
			dst.cleared = true
			continue
		}
		if r.Flags&MergeFile != 0 {
			if pat == "" {
				pat = ".cvsignore"
			}
			if r.Flags&ExcludeSelf != 0 {
				self := &Rule{Flags: r.Flags & fromFile}
				p.addRule(dst, path.Base("/"+pat), self, 0)
				r.Flags &^= ExcludeSelf
			}
			if r.Flags&PerDirMerge == 0 {
				if err := p.parseFile(dst, p.mergeName(pat), r.Flags, xFatalErrors); err != nil {
					return err
				}
				continue
			}
		}
		p.addRule(dst, pat, r, xflags)
		if r.Flags&CVSIgnore != 0 && r.Flags&MergeFile == 0 {
			if err := p.l.loadCVS(r.Flags); err != nil {
				return err
			}
		}
	}
}

// mergeName resolves a merge file's name: a bare name is read from the
// working directory (the transfer root), a relative name with a slash from
// the current directory.
//
// rsync: exclude.c parse_merge_name
func (p *parser) mergeName(name string) string {
	if !strings.Contains(name, "/") {
		return name
	}
	if strings.HasPrefix(name, "/") {
		return path.Clean(name)
	}
	return path.Clean(path.Join(p.dir, name))
}

// addRule finishes rule r with pattern pat and appends it to dst.
//
// rsync: exclude.c add_rule
func (p *parser) addRule(dst *ruleList, pat string, r *Rule, xflags int) {
	if len(pat) > 1 && pat[len(pat)-1] == '/' {
		pat = pat[:len(pat)-1]
		r.Flags |= DirOnly
	}
	if r.Flags&(AbsPath|MergeFile) == 0 && xflags&xAnchored2Abs != 0 && strings.HasPrefix(pat, "/") {
		// Anchored in a per-directory file: anchored at that directory.
		r.Flags |= AbsPath
		pat = p.abs + pat
	}
	r.setPattern(pat)
	if r.Flags&PerDirMerge != 0 {
		if !p.register(r) {
			return
		}
	}
	dst.rules = append(dst.rules, r)
}

// register records a new dir-merge rule; it is false (and the rule is
// dropped) when a merge file of the same name is already active.
func (p *parser) register(r *Rule) bool {
	name := path.Base("/" + r.Pattern)
	if p.st != nil {
		return p.st.register(r, name)
	}
	for _, m := range p.l.perDir {
		if path.Base("/"+m.Pattern) == name {
			return false
		}
	}
	p.l.perDir = append(p.l.perDir, r)
	return true
}

// parseFile reads the rules in file name into dst; tmpl is the rule that
// names the file (its flags say how to read it).
//
// rsync: exclude.c parse_filter_file
func (p *parser) parseFile(dst *ruleList, name string, tmpl Flag, xflags int) error {
	return p.parseFileAs(dst, name, name, tmpl, xflags)
}

// parseFileAs is parseFile for a file that messages call shown.
func (p *parser) parseFileAs(dst *ruleList, name, shown string, tmpl Flag, xflags int) error {
	if name == "" {
		return nil
	}
	kind := "ex"
	if tmpl&Include != 0 {
		kind = "in"
	}
	if p.depth >= maxMergeDepth {
		msg := fmt.Sprintf("[%s] merge-file include depth limit (%d) exceeded at %s",
			p.l.who(), maxMergeDepth, p.ruleText(name))
		if xflags&xFatalErrors != 0 {
			return &Error{Msg: msg, Code: 11}
		}
		p.l.warn("%s", msg)
		return nil
	}
	var data []byte
	var err error
	if name == "-" && p.l.Stdin != nil {
		data, err = io.ReadAll(p.l.Stdin)
	} else {
		data, err = p.fs.ReadFile(name)
	}
	if err != nil {
		if xflags&xFatalErrors != 0 {
			msg := "failed to open " + kind + "clude file " + name
			if p.inFile {
				msg = "failed to open " + kind + "clude file " + p.ruleText(name)
			} else {
				msg = "rsync: [" + p.l.who() + "] " + syserr(msg, err)
			}
			return &Error{Msg: msg, Code: 11, Err: err}
		}
		return nil
	}
	saved := *p
	defer func() { p.inFile, p.src, p.line, p.depth = saved.inFile, saved.src, saved.line, saved.depth }()
	p.depth++
	p.inFile = true
	p.src = shown
	wordSplit := tmpl&WordSplit != 0
	p.line = 0
	if wordSplit {
		p.line = -1
	}
	for len(data) > 0 {
		// One rule per line (CR, LF or CRLF), per NUL with --from0, per
		// whitespace-separated word when word-splitting.
		end := 0
		for end < len(data) {
			c := data[end]
			if wordSplit && isSpace(c) {
				break
			}
			if (p.l.From0 && c == 0) || (!p.l.From0 && (c == '\n' || c == '\r')) {
				break
			}
			end++
		}
		tok := string(data[:end])
		next := end
		if next < len(data) {
			next++
			if data[end] == '\r' && !p.l.From0 && next < len(data) && data[next] == '\n' {
				next++ // CRLF is one line
			}
		}
		data = data[next:]
		if p.line >= 0 {
			p.line++
		}
		if len(tok) > bigPathBufLen-1 {
			p.l.warn("discarding over-long filter: %s", p.ruleText(""))
			tok = ""
		}
		if tok != "" && (wordSplit || (tok[0] != ';' && tok[0] != '#')) {
			if err := p.parseStr(dst, tok, tmpl, xflags); err != nil {
				return err
			}
		}
	}
	return nil
}
