package options

import "strings"

// ChecksumNames lists the checksum names rsync 3.5.0 accepts for
// --checksum-choice, strongest first ("xxhash" is an alias of "xxh64").
// rsync: checksum.c valid_checksums_items
var ChecksumNames = []string{"xxh128", "xxh3", "xxh64", "xxhash", "md5", "md4", "sha1", "none"}

// ChecksumChoiceError reports a --checksum-choice name rsync does not know;
// rsync exits with RERR_UNSUPPORTED (code 4) for it.
type ChecksumChoiceError struct {
	// Name is the text rsync quotes: from the bad name to the end of the
	// option value.
	Name     string
	compress bool // a --compress-choice name
}

// Error formats the message as rsync prints it.
func (e *ChecksumChoiceError) Error() string {
	if e.compress {
		return "unknown compress name: " + e.Name
	}
	return "unknown checksum name: " + e.Name
}

// ExitCode is rsync's RERR_UNSUPPORTED.
func (e *ChecksumChoiceError) ExitCode() int { return 4 }

// ParseChecksumChoice splits a --checksum-choice value into the transfer and
// the file (--checksum) algorithm: "X" means X for both, "X,Y" means X for
// the transfer and Y for files. Names are matched without regard to case and
// returned in lower case, "xxhash" as "xxh64"; "auto" is returned as "auto"
// for the protocol code to resolve.
// rsync: checksum.c parse_checksum_choice, parse_csum_name
func ParseChecksumChoice(s string) (xfer, file string, err error) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		// rsync quotes the rest of the whole value when the first name is bad.
		if xfer, err = checksumName(s[:i], s); err != nil {
			return "", "", err
		}
		file, err = checksumName(s[i+1:], s[i+1:])
		return xfer, file, err
	}
	xfer, err = checksumName(s, s)
	return xfer, xfer, err
}

func checksumName(name, quoted string) (string, error) {
	if strings.EqualFold(name, "auto") {
		return "auto", nil
	}
	for _, n := range ChecksumNames {
		if strings.EqualFold(name, n) {
			if n == "xxhash" {
				n = "xxh64"
			}
			return n, nil
		}
	}
	return "", &ChecksumChoiceError{Name: quoted}
}

// isAutoChoice reports whether a --checksum-choice value leaves the choice
// to negotiation; rsync then forgets the option and does not pass it on.
func isAutoChoice(s string) bool {
	return strings.EqualFold(s, "auto") || strings.EqualFold(s, "auto,auto")
}
