package redact

// The segments that make a key secret-shaped (SPEC §2) are listed in
// isSecretWord: PASSWORD, PASS, PASSWD, TOKEN, SECRET, KEY, APIKEY,
// CREDENTIALS, PRIVATE.

// SecretSegment reports whether key is secret-shaped, and returns the first
// segment that makes it so, as written in key.
//
// A key is secret-shaped when one of its segments, compared
// case-insensitively, is PASSWORD, PASS, PASSWD, TOKEN, SECRET, KEY, APIKEY,
// CREDENTIALS or PRIVATE (SPEC §2). Segments are separated by '_', and also
// by '-' and '.', so that config keys such as "api-key" count. A key that
// mixes upper- and lower-case letters is further split where camelCase
// changes word: before an upper-case letter that follows a lower-case letter
// or a digit ("dbPassword" → db|Password, "db2Token" → db2|Token), and
// before the last upper-case letter of a run that is followed by a
// lower-case letter ("APIKey" → API|Key, "DBPassword" → DB|Password).
//
// Keys written in one case — the convention for environment variables — are
// split at separators only, so the SPEC rule for '_'-separated keys is exact:
// "API_KEY", "DB_PASS" and "SSH_PRIVATE_KEY" are secret-shaped,
// "KEYBOARD_LAYOUT", "MONKEY" and "OAUTH2TOKEN" are not.
func SecretSegment(key string) (segment string, ok bool) {
	a, b, ok := secretSegment(key)
	if !ok {
		return "", false
	}
	return key[a:b], true
}

// secretSegment is SecretSegment for strings and byte slices; it returns
// the bounds of the segment and does not allocate.
func secretSegment[T ~string | ~[]byte](key T) (start, end int, ok bool) {
	var upper, lower bool
	for i := 0; i < len(key); i++ {
		upper = upper || isUpper(key[i])
		lower = lower || isLower(key[i])
	}
	mixed := upper && lower
	start = 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '_' || c == '-' || c == '.' {
			if isSecretWord(key[start:i]) {
				return start, i, true
			}
			start = i + 1
			continue
		}
		if !mixed || i == start || !isUpper(c) {
			continue
		}
		p := key[i-1]
		if isLower(p) || isDigit(p) || (isUpper(p) && i+1 < len(key) && isLower(key[i+1])) {
			if isSecretWord(key[start:i]) {
				return start, i, true
			}
			start = i
		}
	}
	if isSecretWord(key[start:]) {
		return start, len(key), true
	}
	return 0, 0, false
}

func isSecretWord[T ~string | ~[]byte](seg T) bool {
	switch len(seg) {
	case 3:
		return equalFold(seg, "KEY")
	case 4:
		return equalFold(seg, "PASS")
	case 5:
		return equalFold(seg, "TOKEN")
	case 6:
		return equalFold(seg, "PASSWD") || equalFold(seg, "SECRET") || equalFold(seg, "APIKEY")
	case 7:
		return equalFold(seg, "PRIVATE")
	case 8:
		return equalFold(seg, "PASSWORD")
	case 11:
		return equalFold(seg, "CREDENTIALS")
	}
	return false
}

// equalFold reports whether s equals the upper-case ASCII word w, ignoring
// ASCII case.
func equalFold[T ~string | ~[]byte](s T, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isLower(c) {
			c -= 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
