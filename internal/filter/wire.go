package filter

import (
	"fmt"

	"github.com/gorsync/gorsync/internal/wire"
)

// Where a rule applies, relative to the side that sends the list (rsync's
// LOCAL_RULE and REMOTE_RULE elide values).
const (
	elideLocal  = 1 // kept here, not sent
	elideRemote = 2 // sent, not applied here
)

// WireRules returns the rules a client sends to the server, exactly as
// rsync's send_rules writes them (each is one length-prefixed string on
// the wire): rules only for this side are left out, -C's list is expanded
// where rsync expands it, and prefixes are limited to what protocol
// understands. amSender is the client's role. Rules that protocol cannot
// express give an *Error with exit code 2.
//
// rsync: exclude.c send_rules
func (l *List) WireRules(protocol int, amSender bool) ([]string, error) {
	var out []string
	err := l.sendRules(&out, l.top.rules, protocol, amSender, true)
	return out, err
}

func (l *List) sendRules(out *[]string, rules []*Rule, protocol int, amSender, send bool) error {
	for _, r := range rules {
		elide := 0
		if r.Flags&SenderSide != 0 {
			elide = elideRemote
			if amSender {
				elide = elideLocal
			}
		}
		if r.Flags&ReceiverSide != 0 {
			switch {
			case elide != 0:
				elide = 0
			case amSender:
				elide = elideRemote
			default:
				elide = elideLocal
			}
		} else if l.DeleteExcluded && elide == 0 && (r.Flags&PerDirMerge == 0 || r.Flags&NoPrefixes != 0) {
			elide = elideRemote
			if amSender {
				elide = elideLocal
			}
		}
		if elide == elideLocal {
			continue
		}
		if r.Flags&CVSIgnore != 0 && r.Flags&MergeFile == 0 {
			expand := amSender || protocol < 29
			var cvs []*Rule
			if l.cvs != nil {
				cvs = l.cvs.rules
			}
			if err := l.sendRules(out, cvs, protocol, amSender, send && expand); err != nil {
				return err
			}
			if expand {
				continue
			}
		}
		prefix, ok := r.prefix(true, protocol, amSender, l.DeleteExcluded)
		if !ok {
			return &Error{Msg: "filter rules are too modern for remote rsync.", Code: 2}
		}
		if !send {
			continue
		}
		s := prefix + r.Pattern
		if r.Flags&DirOnly != 0 {
			s += "/"
		}
		if s != "" {
			*out = append(*out, s)
		}
	}
	return nil
}

// SendList completes a client's list and returns the rules to send, as
// rsync's send_filter_list does: with cvsExclude (-C) the CVS rules are
// added before sending when the client is the sender (only "-C" before
// protocol 29, ":C" then after), and after it when it receives.
// Whether the rules are written at all is the caller's business (rsync
// sends them to a receiver only when it deletes or prunes, and never to
// a local server).
//
// rsync: exclude.c send_filter_list
func (l *List) SendList(protocol int, amSender, cvsExclude bool) ([]string, error) {
	if cvsExclude && amSender {
		if protocol >= 29 {
			if err := l.AddFilter(":C"); err != nil {
				return nil, err
			}
		}
		if err := l.AddFilter("-C"); err != nil {
			return nil, err
		}
	}
	out, err := l.WireRules(protocol, amSender)
	if err != nil {
		return nil, err
	}
	if cvsExclude {
		if !amSender || protocol < 29 {
			if err := l.AddFilter(":C"); err != nil {
				return nil, err
			}
		}
		if !amSender {
			if err := l.AddFilter("-C"); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Receive parses the rules a server received from its client: before
// protocol 29 they use the old "+ "/"- " prefixes only. With cvsExclude
// (-C among the server options) it adds the CVS rules as rsync's server
// does; amSender is the server's role. A malformed rule is a
// *SyntaxError, as upstream reports it; an over-long one wraps
// wire.ErrProtocol.
//
// rsync: exclude.c recv_filter_list
func Receive(rules []string, protocol int, amSender, cvsExclude bool, opts Options) (*List, error) {
	if opts.Protocol == 0 {
		opts.Protocol = protocol
	}
	l := New(opts)
	xflags := 0
	if protocol < 29 {
		xflags = xOldPrefixes
	}
	p := l.parser()
	for i, s := range rules {
		if len(s) >= bigPathBufLen {
			return nil, fmt.Errorf("filter rule %d: length %d: %w", i, len(s), wire.ErrProtocol)
		}
		if err := p.parseStr(&l.top, s, 0, xflags); err != nil {
			return nil, err
		}
	}
	if cvsExclude {
		if amSender || protocol < 29 {
			if err := l.AddFilter(":C"); err != nil {
				return nil, err
			}
		}
		if amSender {
			if err := l.AddFilter("-C"); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

// ReadRules reads a filter list from the wire: each rule an int length and
// its bytes, the list ended by a zero length.
//
// rsync: exclude.c recv_filter_list
func ReadRules(r *wire.Reader) ([]string, error) {
	var rules []string
	for {
		n, err := r.ReadInt()
		if err != nil {
			return nil, fmt.Errorf("recv filter rules: %w", err)
		}
		if n == 0 {
			return rules, nil
		}
		if n < 0 || n >= bigPathBufLen {
			return nil, fmt.Errorf("recv filter rules: rule length %d: %w", n, wire.ErrProtocol)
		}
		buf := make([]byte, n)
		if err := r.ReadFull(buf); err != nil {
			return nil, fmt.Errorf("recv filter rules: %w", err)
		}
		rules = append(rules, string(buf))
	}
}

// WriteRules writes rules as ReadRules reads them, ending with a zero
// length.
func WriteRules(w *wire.Writer, rules []string) {
	for _, s := range rules {
		w.WriteInt(int32(len(s)))
		w.Write([]byte(s))
	}
	w.WriteInt(0)
}

// ScriptRules returns the command line's rules as rsync writes them into a
// batch's FILE.sh, for --read-batch to read again: each with its full
// prefix, a directory rule with its trailing "/". rsync: batch.c
// write_filter_rules
func (l *List) ScriptRules() []string {
	out := make([]string, 0, len(l.top.rules))
	for _, r := range l.top.rules {
		prefix, _ := r.prefix(false, 0, false, false) // the protocol matters only on the wire
		s := prefix + r.Pattern
		if r.Flags&DirOnly != 0 {
			s += "/"
		}
		out = append(out, s)
	}
	return out
}
