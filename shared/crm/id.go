package crm

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// crockford is the ULID alphabet: no I, L, O or U, so ids read aloud well.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a 26-character ULID: 48 bits of milliseconds since the
// epoch, then 80 random bits. Ids sort by creation time as strings, which the
// store's sort keys rely on.
func NewID(at time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	return ulid(at, b)
}

// DerivedID returns an id of NewID's form whose 80 bits after the
// milliseconds of at come from seed instead of chance: the records made for
// an event get the same id however often the event is delivered, so a
// redelivery finds its record already there.
func DerivedID(at time.Time, seed string) string {
	var b [16]byte
	sum := sha256.Sum256([]byte(seed))
	copy(b[6:], sum[:10])
	return ulid(at, b)
}

// ulid puts at's milliseconds in b's first 48 bits and writes all 128 bits
// as 26 base-32 digits, the first carrying 3 bits.
func ulid(at time.Time, b [16]byte) string {
	ms := uint64(at.UnixMilli()) << 16
	binary.BigEndian.PutUint64(b[:8], ms|uint64(binary.BigEndian.Uint16(b[6:8])))
	var out [26]byte
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether id has the form NewID returns; ids from a URL are
// checked before they reach the store.
func ValidID(id string) bool {
	if len(id) != 26 || id[0] > '7' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U') {
			return false
		}
	}
	return true
}
