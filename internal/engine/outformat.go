package engine

import (
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/report"
)

// OutFormat is what a client prints for each entry it reports: rsync's
// stdout_format with what options.c derives from it.
type OutFormat struct {
	// On says entries are printed, with Format: the --out-format (which
	// may be empty), or -i's "%i %n%L", or -v's "%n%L".
	On     bool
	Format string
	// HasI is rsync's stdout_format_has_i: 1 when the format itemizes,
	// 2 or more with -ii, when unchanged entries are itemized too.
	HasI int
	// HasOorI says deletions print with Format, not as "deleting %n".
	HasOorI bool
	// Before prints a received file's line before its data (rsync's
	// log_before_transfer: a format without %b, %c or %C).
	Before bool
	// LocalCopy marks a local copy, whose sent files itemize as '>'
	// (rsync's local_server), not as '<'.
	LocalCopy bool
}

// logged is one entry as an out-format line describes it.
type logged struct {
	e *flist.Entry
	// name replaces the entry's name (a deletion's, which has no entry
	// but its mode); a name given also drops a symlink's " -> target".
	name   string
	op     string // %o: "send", "recv" or "del."
	iflags uint32
	// read and written are the file's wire bytes each way (%b, %c);
	// root the sender-side directory of its name (%f on the sender);
	// sum its transfer checksum (%C).
	read, written int64
	root          string
	sum           []byte
}

// logFormatSize is rsync's LOG_FMT_SIZE: the flags and width of one
// escape fit in it.
const logFormatSize = 32

// formatItem expands an out-format for one entry, with its newline.
// rsync: log.c log_formatted
func (c *Conn) formatItem(o *Options, format string, it *logged) string {
	var b strings.Builder
	for i := 0; i < len(format); {
		if format[i] != '%' {
			j := strings.IndexByte(format[i:], '%')
			if j < 0 {
				j = len(format) - i
			}
			b.WriteString(format[i : i+j])
			i += j
			continue
		}
		start := i
		i++
		human := 0
		for i < len(format) && format[i] == '\'' {
			human, i = human+1, i+1
		}
		spec := 1 // rsync's fmt holds '%', then the flag and digits
		left := false
		if i < len(format) && format[i] == '-' {
			left, spec, i = true, spec+1, i+1
		}
		digits := i
		for i < len(format) && format[i] >= '0' && format[i] <= '9' && spec < logFormatSize-8 {
			spec, i = spec+1, i+1
		}
		width, _ := strconv.Atoi(format[digits:i])
		for i < len(format) && format[i] == '\'' {
			human, i = human+1, i+1
		}
		if i >= len(format) {
			b.WriteString(format[start:])
			break
		}
		padded := spec > 1
		n, ok := c.escape(o, format[i], it, human, padded, width, left)
		i++
		if !ok {
			// rsync leaves an escape it has no value for as it is.
			b.WriteString(format[start:i])
			continue
		}
		if padded {
			n = pad(n, width, left)
		}
		b.WriteString(n)
	}
	b.WriteByte('\n')
	return b.String()
}

// escape is the value of the escape letter ch; ok is false for one with
// no value here (the daemon's, an unknown letter).
func (c *Conn) escape(o *Options, ch byte, it *logged, human int, padded bool, width int, left bool) (n string, ok bool) {
	e := it.e
	switch ch {
	case 'l':
		return report.HumanNum(e.Size, human), true
	case 'U':
		if !o.Owner {
			return "0", true
		}
		return strconv.FormatUint(uint64(e.UID), 10), true
	case 'G':
		if !o.Group || e.Flags&flist.FlagSkipGroup != 0 {
			return "DEFAULT", true
		}
		return strconv.FormatUint(uint64(e.GID), 10), true
	case 'p':
		return strconv.Itoa(os.Getpid()), true
	case 'M':
		return strings.ReplaceAll(report.TimeString(e.Mtime), " ", "-"), true
	case 'B':
		return report.PermString(e.Mode)[1:], true
	case 'o':
		return it.op, true
	case 'f':
		return c.fullName(o, it), true
	case 'n':
		name := it.name
		if name == "" {
			name = e.Name()
		}
		if e.IsDir() {
			name += "/"
		}
		return name, true
	case 'L':
		// The width pads the target, after the arrow.
		switch {
		case e.IsSymlink() && it.name == "":
			return " -> " + pad(e.LinkTarget(), width, left), true
		case padded:
			return "    " + pad("", width, left), true
		}
		return "", true
	case 't':
		return report.TimeString(time.Now().Unix()), true
	case 'b', 'c':
		// The sender's %b is what it wrote, the receiver's what it read;
		// %c the other way.
		var v int64
		switch {
		case it.iflags&itemTransfer == 0:
		case (it.op == "send") != (ch == 'c'):
			v = it.written
		default:
			v = it.read
		}
		return report.HumanNum(v, human), true
	case 'C':
		return c.sumHex(o, it), true
	case 'i':
		return c.itemString(o, it), true
	case 'm':
		// A module's name; outside a daemon rsync finds none.
		return "", true
	case '%':
		return "%", true
	}
	// %h, %a, %P, %u name a daemon's client and module.
	return "", false
}

// pad pads s with spaces to width bytes, as printf's "%-Ns" and "%Ns" do.
func pad(s string, width int, left bool) string {
	if len(s) >= width {
		return s
	}
	sp := strings.Repeat(" ", width-len(s))
	if left {
		return s + sp
	}
	return sp + s
}

// fullName is %f: the name with, on the sender, the directory it was
// found in, without a leading slash. rsync: log.c log_formatted ('f')
func (c *Conn) fullName(o *Options, it *logged) string {
	name := it.name
	if name == "" {
		name = it.e.Name()
	}
	if it.root != "" {
		name = it.root + "/" + name
	}
	return strings.TrimPrefix(cleanName(name), "/")
}

// cleanName drops repeated slashes, "." components but a last one, and a
// trailing slash, leaving ".." alone. rsync: util1.c clean_fname (flags 0)
func cleanName(name string) string {
	var b strings.Builder
	if strings.HasPrefix(name, "/") {
		b.WriteByte('/')
	}
	parts := strings.Split(name, "/")
	for i, part := range parts {
		if part == "" || part == "." && i < len(parts)-1 {
			continue
		}
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "/") {
			b.WriteByte('/')
		}
		b.WriteString(part)
	}
	if b.Len() == 0 {
		return "."
	}
	return b.String()
}

// sumHex is %C: the file's --checksum sum, else its transfer checksum,
// in hex, or spaces as wide for an entry with neither.
// rsync: log.c log_formatted ('C'), util2.c sum_as_hex
func (c *Conn) sumHex(o *Options, it *logged) string {
	kind := c.Session.XferSum
	if o.AlwaysChecksum {
		kind = c.Session.FileSum
	}
	n := checksum.DigestLen(kind)
	var sum []byte
	if it.e.IsRegular() {
		if o.AlwaysChecksum && it.iflags&itemDeleted == 0 {
			sum = it.e.Sum()
		} else if it.iflags&itemTransfer != 0 {
			sum = it.sum
		}
	}
	// rsync shows no sum for the MD4 variants before protocol 30 (not
	// canonical_checksum).
	if len(sum) < n || kind == checksum.None || kind == checksum.MD4Old {
		return strings.Repeat(" ", 2*n)
	}
	sum = sum[:n]
	switch kind {
	case checksum.XXH64, checksum.XXH3, checksum.XXH128:
		// xxhash sums travel least significant byte first; rsync shows
		// them as the number they are.
		r := make([]byte, n)
		for i := range sum {
			r[n-1-i] = sum[i]
		}
		sum = r
	}
	return hex.EncodeToString(sum)
}

// itemString is %i: the change summary "YXcstpoguax", or "*deleting".
// rsync: log.c log_formatted ('i')
func (c *Conn) itemString(o *Options, it *logged) string {
	fl := it.iflags
	if fl&itemDeleted != 0 {
		return "*deleting  "
	}
	e := it.e
	var s [11]byte
	switch {
	case fl&itemLocalChange != 0 && fl&itemXnameFollows != 0:
		s[0] = 'h'
	case fl&itemLocalChange != 0:
		s[0] = 'c'
	case fl&itemTransfer == 0:
		s[0] = '.'
	case !o.Out.LocalCopy && it.op == "send":
		s[0] = '<'
	default:
		s[0] = '>'
	}
	flag := func(bit uint32, on byte) byte {
		if fl&bit != 0 {
			return on
		}
		return '.'
	}
	if e.IsSymlink() {
		s[1], s[3] = 'L', '.'
		s[4] = flag(itemReportTime, 't')
		// Before protocol 29 rsync's receiver never claims symlink
		// times (compat.c setup_protocol leaves receiver_symlink_times).
		symTimes := c.Session.ReceiverSymlinkTimes && c.Session.Protocol >= 29
		if s[4] == 't' && (!o.Times || !symTimes || fl&itemReportTimeFail != 0) {
			s[4] = 'T'
		}
	} else {
		switch {
		case e.IsDir():
			s[1] = 'd'
		case e.IsSpecial():
			s[1] = 'S'
		case e.IsDevice():
			s[1] = 'D'
		default:
			s[1] = 'f'
		}
		s[3] = flag(itemReportSize, 's')
		s[4] = flag(itemReportTime, 't')
		if s[4] == 't' && !o.Times {
			s[4] = 'T'
		}
	}
	s[2] = flag(itemReportChange, 'c')
	s[5] = flag(itemReportPerms, 'p')
	s[6] = flag(itemReportOwner, 'o')
	s[7] = flag(itemReportGroup, 'g')
	switch fl & (itemReportAtime | itemReportCrtime) {
	case 0:
		s[8] = '.'
	case itemReportAtime | itemReportCrtime:
		s[8] = 'b'
	case itemReportAtime:
		s[8] = 'u'
	default:
		s[8] = 'n'
	}
	s[9] = flag(itemReportACL, 'a')
	s[10] = flag(itemReportXattr, 'x')
	switch {
	case fl&(itemIsNew|itemMissingData) != 0:
		ch := byte('?')
		if fl&itemIsNew != 0 {
			ch = '+'
		}
		for i := 2; i < len(s); i++ {
			s[i] = ch
		}
	case s[0] == '.' || s[0] == 'h' || s[0] == 'c':
		// Nothing changed: blanks, not dots.
		if strings.Trim(string(s[2:]), ".") == "" {
			for i := 2; i < len(s); i++ {
				s[i] = ' '
			}
		}
	}
	return string(s[:])
}
