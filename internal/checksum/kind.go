package checksum

import (
	"fmt"
	"strings"
)

// Kind identifies a strong checksum algorithm as rsync negotiates it.
type Kind uint8

// The checksum algorithms. MD4Old is the MD4 implied by protocols 27–29: its
// block sums equal MD4's, but its whole-file sum is seeded (sum_init feeds
// the 4-byte seed first). MD4 is the negotiated "md4" of protocol 30+.
const (
	None Kind = iota
	MD4Old
	MD4
	MD5
	SHA1
	XXH64
	XXH3
	XXH128
)

// MaxDigestLen is the longest digest any Kind produces (SHA1).
const MaxDigestLen = 20

var kindNames = [...]string{
	None:   "none",
	MD4Old: "md4",
	MD4:    "md4",
	MD5:    "md5",
	SHA1:   "sha1",
	XXH64:  "xxh64",
	XXH3:   "xxh3",
	XXH128: "xxh128",
}

// Name returns rsync's name for k ("md4" for both MD4 variants).
func (k Kind) Name() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// String returns k's name.
func (k Kind) String() string { return k.Name() }

// ParseKind returns the Kind for an rsync checksum name, case-insensitively;
// "xxhash" is an alias of "xxh64" and "md4" is the negotiated MD4.
//
// rsync: checksum.c valid_checksums_items
func ParseKind(name string) (Kind, error) {
	switch strings.ToLower(name) {
	case "xxh128":
		return XXH128, nil
	case "xxh3":
		return XXH3, nil
	case "xxh64", "xxhash":
		return XXH64, nil
	case "md5":
		return MD5, nil
	case "md4":
		return MD4, nil
	case "sha1":
		return SHA1, nil
	case "none":
		return None, nil
	}
	return None, fmt.Errorf("unknown checksum name: %s", name)
}

// DigestLen returns the length in bytes of k's digest as rsync sends it; the
// "none" checksum is a single zero byte.
//
// rsync: checksum.c csum_len_for_type
func DigestLen(k Kind) int {
	switch k {
	case None:
		return 1
	case MD4Old, MD4, MD5, XXH128:
		return 16
	case SHA1:
		return 20
	case XXH64, XXH3:
		return 8
	}
	return 0
}

// Params selects a strong checksum and how it is seeded for one transfer.
type Params struct {
	// Kind is the negotiated (or implied) algorithm.
	Kind Kind
	// Seed is the checksum_seed the server sent in the handshake.
	Seed int32
	// ProperSeedOrder is compat flag CF_CHKSUM_SEED_FIX: MD5 block sums hash
	// the seed before the data instead of after it.
	ProperSeedOrder bool
}

// DigestLen returns the digest length of p.Kind.
func (p Params) DigestLen() int { return DigestLen(p.Kind) }
