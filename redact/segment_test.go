package redact

import "testing"

func TestSecretSegment(t *testing.T) {
	for _, tt := range []struct {
		key, seg string
		ok       bool
	}{
		// SPEC §2: '_'-separated segments, case-insensitive.
		{"DB_PASSWORD", "PASSWORD", true},
		{"DB_PASS", "PASS", true},
		{"X_PASSWD", "PASSWD", true},
		{"GITHUB_TOKEN", "TOKEN", true},
		{"CLIENT_SECRET", "SECRET", true},
		{"API_KEY", "KEY", true},
		{"APIKEY", "APIKEY", true},
		{"AWS_CREDENTIALS", "CREDENTIALS", true},
		{"SSH_PRIVATE_KEY", "PRIVATE", true}, // the first secret segment
		{"KEY", "KEY", true},
		{"github_token", "token", true},
		{"Db_Pass", "Pass", true},
		{"_TOKEN_", "TOKEN", true},
		{"KEYBOARD_LAYOUT", "", false},
		{"MONKEY", "", false},
		{"LOG_LEVEL", "", false},
		{"PASSENGER_COUNT", "", false},
		{"TOKENIZER", "", false},
		{"DATABASE_URL", "", false},
		{"PASSWORD2", "", false},
		{"OAUTH2TOKEN", "", false}, // one case: split at separators only
		{"SECRETS", "", false},
		{"KEYS_SHA256", "", false},
		{"", "", false},
		{"_", "", false},
		// Config keys: '-', '.' and camelCase.
		{"api-key", "key", true},
		{"spec.apiKey", "Key", true},
		{"apiKey", "Key", true},
		{"dbPassword", "Password", true},
		{"db2Token", "Token", true},
		{"APIKey", "Key", true},
		{"DBPassword", "Password", true},
		{"OAuth2Token", "Token", true},
		{"secretRef", "secret", true},
		{"apikey", "apikey", true},
		{"fromEnv", "", false},
		{"keyboardLayout", "", false},
		{"monkeyBusiness", "", false},
		{"passthrough", "", false},
		{"Tokenizer", "", false},
		{"secrets", "", false},
	} {
		seg, ok := SecretSegment(tt.key)
		if seg != tt.seg || ok != tt.ok {
			t.Errorf("SecretSegment(%q) = %q, %v; want %q, %v", tt.key, seg, ok, tt.seg, tt.ok)
		}
		if _, _, bok := secretSegment([]byte(tt.key)); bok != tt.ok {
			t.Errorf("secretSegment([]byte(%q)) = %v; want %v", tt.key, bok, tt.ok)
		}
	}
}
