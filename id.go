package rapport

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"
)

// crockford is Crockford's base32 alphabet: no I, L, O or U, so ids read aloud well.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a 26-character identifier that sorts by creation time
// (48 bits of milliseconds, then 80 random bits). Ids are made in Go rather than
// by a database sequence so that no backend's sequence semantics leak into the
// schema, and so that inserts spread across a distributed engine's key space.
func NewID(now time.Time) string {
	var entropy [10]byte
	_, _ = rand.Read(entropy[:])
	return FormatID(now, entropy)
}

// FormatID returns the id for a time and 80 bits of entropy; generators that
// must be reproducible pass entropy from a seeded source.
func FormatID(t time.Time, entropy [10]byte) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	copy(b[6:], entropy[:])
	return encode32(b)
}

func encode32(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether s is an identifier as NewID makes them: 26
// characters of Crockford's base32 (upper case) whose first encodes at most
// three bits, since the 26 characters carry 130 bits and ids have 128.
func ValidID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(crockford, rune(s[i])) {
			return false
		}
	}
	return true
}
