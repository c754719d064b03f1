package report

import (
	"os"
	"strings"
	"unicode/utf8"
)

// Escaper renders messages for a terminal as rsync does: a control
// character (but tab), a byte the locale's character set cannot show and a
// backslash that would read as an escape become "\#ooo" (octal).
// rsync: log.c rwrite and filtered_fwrite
type Escaper struct {
	// EightBit is -8: bytes from 0x80 pass as they are.
	EightBit bool
	// UTF8 says the locale's character set is UTF-8, whose valid
	// sequences pass; otherwise (the C locale) every byte from 0x80 is
	// escaped. rsync checks output through iconv from the locale's
	// charset to itself.
	UTF8 bool
	// C1 escapes the bytes 0x80 to 0x9f even with EightBit, as rsync's
	// log file does (its lines are escaped alike whatever the options).
	C1 bool
}

// LogFileEscaper is how rsync escapes --log-file lines.
// rsync: log.c logit (filtered_fwrite with escape_c1)
var LogFileEscaper = &Escaper{EightBit: true, C1: true}

// NewEscaper returns the Escaper for the locale getenv describes
// (LC_ALL, LC_CTYPE, LANG), as rsync's setlocale(LC_CTYPE, "") finds it:
// a UTF-8 locale counts only when it is installed (C.UTF-8 always is).
func NewEscaper(eightBit bool, getenv func(string) string) *Escaper {
	name := ""
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if name = getenv(v); name != "" {
			break
		}
	}
	return &Escaper{EightBit: eightBit, UTF8: utf8Locale(name)}
}

// utf8Locale reports whether the locale called name exists and uses UTF-8.
func utf8Locale(name string) bool {
	lang, codeset, ok := strings.Cut(name, ".")
	if !ok {
		return false
	}
	codeset, _, _ = strings.Cut(codeset, "@")
	if c := strings.ToLower(codeset); c != "utf-8" && c != "utf8" {
		return false
	}
	if lang == "C" {
		return true
	}
	// glibc keeps a compiled locale under its normalised codeset name.
	_, err := os.Stat("/usr/lib/locale/" + lang + ".utf8")
	return err == nil
}

// Escape returns msg as rsync prints it: a leading carriage return and one
// trailing newline or carriage return stay as they are.
func (x *Escaper) Escape(msg string) string {
	if x == nil || !x.needs(msg) {
		return msg
	}
	var b strings.Builder
	b.Grow(len(msg) + 16)
	body := msg
	if strings.HasPrefix(body, "\r") {
		b.WriteByte('\r')
		body = body[1:]
	}
	end := ""
	if n := len(body); n > 0 && (body[n-1] == '\n' || body[n-1] == '\r') {
		body, end = body[:n-1], body[n-1:]
	}
	for i := 0; i < len(body); {
		c := body[i]
		size := 1
		esc := false
		switch {
		case c == '\\' && i+4 < len(body) && body[i+1] == '#' && isDigit(body[i+2]) && isDigit(body[i+3]) && isDigit(body[i+4]):
			esc = true
		case c < ' ' && c != '\t':
			esc = true
		case x.C1 && c >= 0x80 && c <= 0x9f:
			esc = true
		case c >= 0x80 && !x.EightBit:
			if !x.UTF8 {
				esc = true
				break
			}
			r, n := utf8.DecodeRuneInString(body[i:])
			if r == utf8.RuneError && n <= 1 {
				esc = true
			} else {
				size = n
			}
		}
		if esc {
			b.WriteString(`\#`)
			b.WriteByte('0' + c>>6)
			b.WriteByte('0' + c>>3&7)
			b.WriteByte('0' + c&7)
		} else {
			b.WriteString(body[i : i+size])
		}
		i += size
	}
	b.WriteString(end)
	return b.String()
}

// needs reports whether msg has anything Escape would change, so the
// common message passes without a copy.
func (x *Escaper) needs(msg string) bool {
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c < ' ' && c != '\t' && c != '\n' && c != '\r' || c == '\\' || c >= 0x80 && (!x.EightBit || x.C1) {
			return true
		}
		if (c == '\n' || c == '\r') && i != len(msg)-1 && !(c == '\r' && i == 0) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
