package checksum

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gorsync/gorsync/internal/negotiate"
)

// DefaultList is rsync's checksum preference list, strongest first, as a
// server advertises it; a client leaves out "none".
//
// rsync: checksum.c valid_checksums_items, compat.c get_default_nno_list
var DefaultList = []string{"xxh128", "xxh3", "xxh64", "md5", "md4", "sha1", "none"}

// ErrNegotiate reports that the two sides share no checksum algorithm.
var ErrNegotiate = errors.New("failed to negotiate a checksum choice")

// lookupName resolves a checksum name for package negotiate: "xxhash" is
// an alias of "xxh64" (rsync: checksum.c valid_checksums_items).
func lookupName(name string) (int, string, bool) {
	k, err := ParseKind(name)
	if err != nil {
		return 0, "", false
	}
	if strings.EqualFold(name, "xxhash") {
		name = "xxh64"
	}
	return int(k), name, true
}

// LocalList returns the checksum names this side advertises, in its order
// of preference. env is the value of RSYNC_CHECKSUM_LIST ("" if unset): a
// client uses the part before any '&', a server the part after it. Unknown
// and repeated names are dropped and aliases replaced by their main name; a
// list that named something but nothing valid becomes "INVALID" (which then
// fails to negotiate), and an empty one falls back to DefaultList.
//
// rsync: compat.c send_negotiate_str, getenv_nstr, parse_nni_str
func LocalList(env string, amServer bool) []string {
	return negotiate.Local(env, amServer, DefaultList, lookupName)
}

// FormatList joins a list for the wire (write_vstring of a space-separated
// string).
func FormatList(list []string) string { return strings.Join(list, " ") }

// ParseList splits a peer's space-separated list.
func ParseList(s string) []string { return strings.Fields(s) }

// Choose picks the algorithm both sides use: the first entry of local (our
// own preference order) that also appears in remote. Each side applies the
// rule with its own list, so honest peers, which both list in rsync's
// default order, converge.
//
// rsync: compat.c parse_negotiate_str
func Choose(local, remote []string) (Kind, error) {
	i := negotiate.Choose(local, remote, lookupName)
	if i < 0 {
		return None, fmt.Errorf("%w (peer list: %q, our list: %q)", ErrNegotiate,
			FormatList(remote), FormatList(local))
	}
	k, _ := ParseKind(local[i])
	return k, nil
}

// Implied returns the algorithm used when checksum names are not negotiated
// (the peer lacks the 'v' capability) or the choice is "auto": MD4Old below
// protocol 30 and MD5 from 30 on. When not negotiating, rsync still checks
// that the local list allows it: call Choose(local, []string{Implied(p).Name()}).
//
// rsync: checksum.c parse_csum_name, compat.c negotiate_the_strings
func Implied(protocol int) Kind {
	if protocol >= 30 {
		return MD5
	}
	return MD4Old
}

// ParseChoice interprets a --checksum-choice value, "XFER" or "XFER,FILE",
// returning the transfer and the pre-transfer (--checksum) algorithms;
// "auto" selects Implied(protocol).
//
// rsync: checksum.c parse_checksum_choice
func ParseChoice(choice string, protocol int) (xfer, file Kind, err error) {
	one := func(s string) (Kind, error) {
		if strings.EqualFold(s, "auto") {
			return Implied(protocol), nil
		}
		return ParseKind(s)
	}
	x, f, ok := strings.Cut(choice, ",")
	if xfer, err = one(x); err != nil {
		return None, None, err
	}
	if !ok {
		return xfer, xfer, nil
	}
	if file, err = one(f); err != nil {
		return None, None, err
	}
	return xfer, file, nil
}

// ValidateChoice checks, on a server, that the client's --checksum-choice
// algorithms are allowed by the server part of RSYNC_CHECKSUM_LIST (env);
// an unset or blank list allows everything, and "md4" allows MD4Old.
//
// rsync: compat.c validate_choice_vs_env
func ValidateChoice(env string, kinds ...Kind) error {
	if i := strings.IndexByte(env, '&'); i >= 0 {
		env = env[i+1:]
	}
	if strings.TrimLeft(env, " \t\n\v\f\r") == "" {
		return nil
	}
	list := LocalList(env, false)
	for _, k := range kinds {
		allowed := false
		for _, name := range list {
			if lk, err := ParseKind(name); err == nil && (lk == k || (lk == MD4 && k == MD4Old)) {
				allowed = true
			}
		}
		if !allowed {
			return fmt.Errorf("your --checksum-choice value (%s) was refused by the server", k.Name())
		}
	}
	return nil
}
