// Package protocol performs rsync's connection set-up: the version exchange,
// compatibility flags, checksum negotiation and the checksum seed, leaving a
// Session that the roles consult for every protocol-dependent choice.
package protocol

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

// Protocol versions gorsync speaks.
const (
	MaxVersion = 32
	MinVersion = 27
)

// Compatibility flags the server sends from protocol 30. rsync: compat.c CF_*.
const (
	CFIncRecurse        = 1 << 0
	CFSymlinkTimes      = 1 << 1
	CFSymlinkIconv      = 1 << 2
	CFSafeFlist         = 1 << 3
	CFAvoidXattrOptim   = 1 << 4
	CFChksumSeedFix     = 1 << 5
	CFInplacePartialDir = 1 << 6
	CFVarintFlistFlags  = 1 << 7
	CFID0Names          = 1 << 8
)

// ClientCapabilities is the "-e." string a gorsync client sends without
// incremental recursion: everything rsync 3.x offers but 'i' and iconv
// ('s'), which gorsync does not do yet. rsync: options.c maybe_add_e_option.
const ClientCapabilities = ".LfxCIvu"

// ClientInfo is the "-e." string a client sends, with 'i' when it allows
// incremental recursion (rsync's allow_inc_recurse).
func ClientInfo(incRecurse bool) string {
	if incRecurse {
		return ".i" + ClientCapabilities[1:]
	}
	return ClientCapabilities
}

// Config is what one side brings to the set-up.
type Config struct {
	AmServer bool
	AmSender bool
	// Protocol is the highest version this side offers (--protocol or MaxVersion).
	Protocol int
	// ClientInfo is, on a server, the capability string the client sent with -e.
	ClientInfo string
	// ChecksumChoice is --checksum-choice ("" when not given).
	ChecksumChoice string
	// ChecksumEnv is RSYNC_CHECKSUM_LIST.
	ChecksumEnv string
	// Seed, on a server, fixes the checksum seed (0 picks one like rsync).
	Seed int32
	// Compress says this side compresses (-z or a compress option);
	// CompressChoice is --compress-choice ("" to negotiate) and CompressEnv
	// is RSYNC_COMPRESS_LIST.
	Compress       bool
	CompressChoice string
	CompressEnv    string
	// GeneratorMessages is rsync's need_messages_from_generator for
	// --remove-source-files: below protocol 30 it multiplexes a client
	// receiver's output and a server sender's input too, to carry
	// MSG_SUCCESS.
	GeneratorMessages bool
	// IO says whether this side's multiplexed output may gather frames
	// into one writev (fastio.Writev).
	IO fastio.Config
	// IncRecurse is this side's allow_inc_recurse: a server turns
	// incremental recursion on when it and the client's 'i' allow it; a
	// client accepts it only when it offered it.
	IncRecurse bool
	// BwLimit is --bwlimit in KiB per second: what this side writes is
	// paced to it (0: no limit).
	BwLimit int
	// Clock, when set, records when the connection last read and wrote,
	// for --timeout.
	Clock *IOClock
}

// Session holds everything negotiated for one connection.
type Session struct {
	Protocol       int
	RemoteProtocol int
	CompatFlags    uint32
	Seed           int32
	XferSum        checksum.Kind // block and whole-file transfer checksums
	FileSum        checksum.Kind // --checksum pre-transfer sums
	Negotiated     bool          // checksum names were exchanged ('v')
	// ReceiverSymlinkTimes says whether the receiving side sets symlink mtimes.
	ReceiverSymlinkTimes bool
	// Compression is the token compression in use: "zstd", "lz4", "zlibx",
	// "zlib", or "" for none.
	Compression string
}

// IncRecurse reports whether the file list goes incrementally, a
// directory at a time (CF_INC_RECURSE). rsync: compat.c inc_recurse
func (s *Session) IncRecurse() bool {
	return s.Protocol >= 30 && s.CompatFlags&CFIncRecurse != 0
}

// ProperSeedOrder is compat flag CF_CHKSUM_SEED_FIX.
func (s *Session) ProperSeedOrder() bool { return s.CompatFlags&CFChksumSeedFix != 0 }

// VarintFlistFlags is compat flag CF_VARINT_FLIST_FLAGS.
func (s *Session) VarintFlistFlags() bool { return s.CompatFlags&CFVarintFlistFlags != 0 }

// SafeFlist reports whether the file list may end with an I/O error code.
func (s *Session) SafeFlist() bool { return s.CompatFlags&CFSafeFlist != 0 || s.Protocol >= 31 }

// ID0Names is compat flag CF_ID0_NAMES.
func (s *Session) ID0Names() bool { return s.CompatFlags&CFID0Names != 0 }

// XferParams returns the parameters for block and whole-file transfer sums.
func (s *Session) XferParams() checksum.Params {
	return checksum.Params{Kind: s.XferSum, Seed: s.Seed, ProperSeedOrder: s.ProperSeedOrder()}
}

// FileParams returns the parameters for --checksum sums. They are never
// seeded: rsync's file_checksum hashes the file alone, so the MD4 implied
// by protocols 27–29, whose transfer sums start with the seed, is plain
// MD4 here.
func (s *Session) FileParams() checksum.Params {
	k := s.FileSum
	if k == checksum.MD4Old {
		k = checksum.MD4
	}
	return checksum.Params{Kind: k, ProperSeedOrder: s.ProperSeedOrder()}
}

// ErrClosedAtStart is a peer that closed the connection before its
// protocol version came: a remote shell or command that failed. rsync:
// io.c whine_about_eof
var ErrClosedAtStart = errors.New("connection unexpectedly closed (0 bytes received so far)")

// ExchangeVersions sends our version and reads the peer's; it must happen
// before anything else, on the raw stream. rsync: compat.c setup_protocol.
func ExchangeVersions(r *wire.Reader, w *wire.Writer, ours int) (negotiated, remote int, err error) {
	w.WriteInt(int32(ours))
	if err := w.Flush(); err != nil {
		return 0, 0, fmt.Errorf("send protocol version: %w", err)
	}
	v, err := r.ReadInt()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, 0, fmt.Errorf("%w: %w", ErrClosedAtStart, err)
		}
		return 0, 0, fmt.Errorf("read protocol version: %w", err)
	}
	remote = int(v)
	if remote < 20 || remote > 40 {
		return 0, remote, fmt.Errorf("protocol version mismatch -- is your shell clean?\n(see the rsync manpage for an explanation): %w", wire.ErrIncompatible)
	}
	negotiated = min(ours, remote)
	if negotiated < MinVersion {
		return negotiated, remote, &VersionError{Remote: remote}
	}
	return negotiated, remote, nil
}

// VersionError reports a peer too old for gorsync (exit code 2).
type VersionError struct{ Remote int }

// ExitCode is rsync's RERR_PROTOCOL.
func (e *VersionError) ExitCode() int { return exitcode.Protocol }

func (e *VersionError) Error() string {
	return fmt.Sprintf("protocol version %d is not supported by gorsync (needs %d to %d)", e.Remote, MinVersion, MaxVersion)
}

// Setup runs the rest of rsync's set-up after the version exchange: compat
// flags, negotiated checksum names and the checksum seed.
func Setup(r *wire.Reader, w *wire.Writer, cfg Config, negotiated, remote int) (*Session, error) {
	s := &Session{Protocol: negotiated, RemoteProtocol: remote}
	if s.Protocol >= 30 {
		if cfg.AmServer {
			info := cfg.ClientInfo
			flags := uint32(CFSymlinkTimes)
			// rsync: compat.c set_allow_inc_recurse, setup_protocol
			if cfg.IncRecurse && strings.IndexByte(info, 'i') >= 0 {
				flags |= CFIncRecurse
			}
			for _, f := range []struct {
				c    byte
				flag uint32
			}{{'f', CFSafeFlist}, {'x', CFAvoidXattrOptim}, {'C', CFChksumSeedFix}, {'I', CFInplacePartialDir}, {'u', CFID0Names}, {'v', CFVarintFlistFlags}} {
				if strings.IndexByte(info, f.c) >= 0 {
					flags |= f.flag
				}
			}
			s.CompatFlags = flags
			w.WriteVarint(int32(flags))
			if err := w.Flush(); err != nil {
				return nil, fmt.Errorf("send compat flags: %w", err)
			}
		} else {
			v, err := r.ReadVarint()
			if err != nil {
				return nil, fmt.Errorf("read compat flags: %w", err)
			}
			if v&CFIncRecurse != 0 && !cfg.IncRecurse {
				return nil, fmt.Errorf("server enabled incremental recursion, which was not offered: %w", wire.ErrProtocol)
			}
			s.CompatFlags = uint32(v)
		}
		s.Negotiated = s.CompatFlags&CFVarintFlistFlags != 0
		if cfg.AmSender {
			if cfg.AmServer {
				s.ReceiverSymlinkTimes = strings.IndexByte(cfg.ClientInfo, 'L') >= 0
			} else {
				s.ReceiverSymlinkTimes = s.CompatFlags&CFSymlinkTimes != 0
			}
		} else {
			s.ReceiverSymlinkTimes = true
		}
	} else {
		s.ReceiverSymlinkTimes = !cfg.AmSender
	}

	if err := s.negotiateChecksums(r, w, cfg); err != nil {
		return nil, err
	}

	if cfg.AmServer {
		seed := cfg.Seed
		if seed == 0 {
			seed = int32(time.Now().Unix()) ^ int32(rand.Uint32()<<6)
		}
		s.Seed = seed
		w.WriteInt(seed)
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("send checksum seed: %w", err)
		}
	} else {
		seed, err := r.ReadInt()
		if err != nil {
			return nil, fmt.Errorf("read checksum seed: %w", err)
		}
		s.Seed = seed
	}
	return s, nil
}

// maxNegotiateString bounds a peer's list of names. rsync: compat.c MAX_NSTR_STRLEN.
const maxNegotiateString = 256

// negotiateChecksums exchanges checksum (and, when compressing, compression)
// names when both sides can, and picks the algorithms. Both lists go out
// before either is read, as rsync does. rsync: compat.c
// negotiate_the_strings, checksum.c parse_checksum_choice, compat.c
// parse_compress_choice.
func (s *Session) negotiateChecksums(r *wire.Reader, w *wire.Writer, cfg Config) error {
	side := "Client"
	if cfg.AmServer {
		side = "Server"
	}
	sendCsum := cfg.ChecksumChoice == "" && s.Negotiated
	sendComp := cfg.Compress && cfg.CompressChoice == "" && s.Negotiated
	localCsum := checksum.LocalList(cfg.ChecksumEnv, cfg.AmServer)
	localComp := CompressList(cfg.CompressEnv, cfg.AmServer)
	if sendCsum {
		w.WriteVstring(checksum.FormatList(localCsum))
	}
	if sendComp {
		w.WriteVstring(strings.Join(localComp, " "))
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("send negotiation strings: %w", err)
	}
	var peerCsum, peerComp string
	var err error
	if sendCsum {
		if peerCsum, err = r.ReadVstring(maxNegotiateString); err != nil {
			return fmt.Errorf("read checksum list: %w", err)
		}
	}
	if sendComp {
		if peerComp, err = r.ReadVstring(maxNegotiateString); err != nil {
			return fmt.Errorf("read compress list: %w", err)
		}
	}

	switch {
	case cfg.ChecksumChoice != "":
		x, f, err := checksum.ParseChoice(cfg.ChecksumChoice, s.Protocol)
		if err != nil {
			return &NegotiateError{Msg: fmt.Sprintf("unknown checksum name: %s", cfg.ChecksumChoice)}
		}
		if cfg.AmServer {
			if err := checksum.ValidateChoice(cfg.ChecksumEnv, x, f); err != nil {
				return &NegotiateError{Msg: fmt.Sprintf("Your --checksum-choice value (%s) was refused by the server.", cfg.ChecksumChoice)}
			}
		}
		s.XferSum, s.FileSum = x, f
	case !s.Negotiated:
		implied := checksum.Implied(s.Protocol)
		if _, err := checksum.Choose(localCsum, []string{implied.Name()}); err != nil {
			return &NegotiateError{Msg: fmt.Sprintf("Failed to negotiate checksum choice: the peer only knows %s", implied.Name())}
		}
		s.XferSum, s.FileSum = implied, implied
	default:
		k, err := checksum.Choose(localCsum, checksum.ParseList(peerCsum))
		if err != nil {
			return &NegotiateError{Msg: fmt.Sprintf("Failed to negotiate a checksum choice.\n%s list: %s\npeer list: %s", side, checksum.FormatList(localCsum), peerCsum)}
		}
		s.XferSum, s.FileSum = k, k
	}

	switch {
	case !cfg.Compress:
		s.Compression = ""
	case cfg.CompressChoice != "":
		name := strings.ToLower(cfg.CompressChoice)
		if cfg.AmServer && !allowed(localComp, name) && strings.TrimSpace(cfg.CompressEnv) != "" {
			return &NegotiateError{Msg: fmt.Sprintf("Your --compress-choice value (%s) was refused by the server.", cfg.CompressChoice)}
		}
		s.Compression = name
	case !s.Negotiated:
		if !allowed(localComp, "zlib") {
			return &NegotiateError{Msg: "Failed to negotiate compress choice: the peer only knows zlib"}
		}
		s.Compression = "zlib"
	default:
		name := chooseName(localComp, strings.Fields(peerComp))
		if name == "" {
			return &NegotiateError{Msg: fmt.Sprintf("Failed to negotiate a compress choice.\n%s list: %s\npeer list: %s", side, strings.Join(localComp, " "), peerComp)}
		}
		s.Compression = name
	}
	if s.Compression == "none" {
		s.Compression = ""
	}
	return nil
}

// NegotiateError is a failed algorithm negotiation (rsync exits 4, RERR_UNSUPPORTED).
type NegotiateError struct{ Msg string }

func (e *NegotiateError) Error() string { return e.Msg }

// ExitCode is rsync's RERR_UNSUPPORTED.
func (e *NegotiateError) ExitCode() int { return exitcode.Unsupported }
