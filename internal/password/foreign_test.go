package password

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"unicode/utf8"
)

// foreignVectors are hashes made by other systems' reference
// implementations or published by their owners, with the password that
// matches. Where no published vector was at hand, the vector was generated
// with Python's hashlib (OpenSSL), an implementation independent of the Go
// code under test; the source says which.
var foreignVectors = []struct {
	name, hash, password, algorithm string
}{
	// golang.org/x/crypto/bcrypt's TestBcryptingIsCorrect.
	{"bcrypt x/crypto", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", "allmine", "bcrypt"},
	// OpenBSD-derived vectors as jBCrypt's test suite carries them.
	{"bcrypt openbsd a", "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe", "a", "bcrypt"},
	{"bcrypt openbsd abc", "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i", "abc", "bcrypt"},
	{"bcrypt openbsd alphabet", "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC", "abcdefghijklmnopqrstuvwxyz", "bcrypt"},
	// $2b$ (OpenBSD since 2014) computes what $2a$ does for these
	// passwords: the same vector under the new prefix.
	{"bcrypt 2b", "$2b$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i", "abc", "bcrypt"},
	// PHP manual, password_verify and password_hash examples ($2y$).
	{"bcrypt php 2y", "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq", "rasmuslerdorf", "bcrypt"},
	{"bcrypt php 2y cost 10", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf", "bcrypt"},
	// phc-winner-argon2 README: echo -n password | argon2 somesalt -t 2 -m 16 -p 4 -l 24 (argon2i).
	{"argon2i reference CLI", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "password", "argon2i"},
	// phc-winner-argon2 src/test.c (argon2id), with the pool's own prefix.
	{"argon2id reference test.c", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", "password", "argon2id"},
	// RFC 7914 §12 test vectors, as passlib (ln = log2 N) and as Ory
	// Kratos (ln = N, padded base64) write them.
	{"scrypt RFC 7914 passlib", "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA", "password", "scrypt"},
	{"scrypt RFC 7914 kratos", "$scrypt$ln=16384,r=8,p=1$U29kaXVtQ2hsb3JpZGU=$cCO9yzr9c0hGHAbNgf046/2o+7qQT44+qbVD9lRdofLVQylVYT8Pz2LUlwUkKpr55h6F3A1lHkDfzwF7RVdYhw==", "pleaseletmein", "scrypt"},
	// firebase/scrypt README: the documented example hash config
	// (signer key, salt separator Bw==, rounds 8, mem_cost 14) and user.
	{"firebase scrypt README", "$firebase-scrypt$rounds=8,mem=14$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==", "user1password", "firebase-scrypt"},
	// RFC 6070 test vector 2 (PBKDF2-HMAC-SHA1, 4096 iterations).
	{"pbkdf2-sha1 RFC 6070", "$pbkdf2-sha1$i=4096,l=20$c2FsdA$SwB5AbdlSJq+rUnZJvch0GWkKcE", "password", "pbkdf2-sha1"},
	// Generated with hashlib.pbkdf2_hmac in the spelling of Ory Kratos'
	// import (i=,l=, padded base64) and of passlib (bare count, '.' for '+').
	{"pbkdf2-sha256 kratos", "$pbkdf2-sha256$i=100000,l=32$a3JhdG9zLXNhbHQtMDAwMQ==$UCg7AQVf/duyo9kxajOJFvqt6ItyHi0pbylgQwF55n0=", "correct horse", "pbkdf2-sha256"},
	{"pbkdf2-sha512 passlib", "$pbkdf2-sha512$25000$cGFzc2xpYi1zYWx0$bW5HFMVx9uJ.j3scelxojSwQ8QnRfvv/MV7Ap7yGQjgeJFA2w8Il20ICJkYqYDuCpnvgesz7Krh0MIvpW.PTew", "correct horse", "pbkdf2-sha512"},
	// Django's make_password("lètmein", "seasalt", "pbkdf2_sha256") at
	// Django 5.1's 870,000 iterations, generated with hashlib.
	{"django pbkdf2_sha256", "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", "lètmein", "pbkdf2-sha256"},
	{"django pbkdf2_sha1", "pbkdf2_sha1$10000$oldsalt$6YdXD3hvcWW9Y3rFz/AGU683qPM=", "hunter2", "pbkdf2-sha1"},
	// Keycloak realm-export credentials (pbkdf2-sha256 at Keycloak's old
	// default 27,500 iterations and 512-bit key; pbkdf2-sha512 at its
	// current 210,000), generated with hashlib.
	{"keycloak pbkdf2-sha256", `{"id": "c0ffee", "type": "password", "createdDate": 1700000000000, "secretData": "{\"value\": \"ldrCG5rCCXfcJamXcYfhvkLwHLeJYAEor0xe67MaBcY3Bca/6lTXJZg/8Zzv2VA1SkTqrof+sCCX86MSP61cpQ==\", \"salt\": \"AAECAwQFBgcICQoLDA0ODw==\", \"additionalParameters\": {}}", "credentialData": "{\"hashIterations\": 27500, \"algorithm\": \"pbkdf2-sha256\", \"additionalParameters\": {}}"}`, "Keycloak-Pass1", "pbkdf2-sha256"},
	{"keycloak pbkdf2-sha512", `{"type": "password", "secretData": "{\"value\": \"3FZnUh6VC43RE2KUE0ICMzRk09llEBnfsZTz/Zxu3dSRxWTCtCzMKsihlDXJ6NoUmHASxfKxRTuaEQAK5Z2RKQ==\", \"salt\": \"EBESExQVFhcYGRobHB0eHw==\", \"additionalParameters\": {}}", "credentialData": "{\"hashIterations\": 210000, \"algorithm\": \"pbkdf2-sha512\", \"additionalParameters\": {}}"}`, "Keycloak-Pass1", "pbkdf2-sha512"},
	// Legacy digests (md5("password") is the well-known
	// 5f4dcc3b...; the others generated with hashlib).
	{"legacy md5 unsalted", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99"}`, "password", "legacy-md5"},
	{"legacy md5 upper hex", `{"algorithm":"md5","hash":"5F4DCC3B5AA765D61D8327DEB882CF99","salt":"","pattern":"@password"}`, "password", "legacy-md5"},
	{"legacy sha1 salted default pattern", `{"algorithm":"sha1","hash":"e329d4054aff39056c09041993fe859a861d272f","salt":"NaCl"}`, "password", "legacy-sha1"},
	{"legacy sha256 salt first", `{"algorithm":"sha256","hash":"0cb6cf62a0ea25a7a8a32f892702032bbf790b47d99d9b023b0827bb921af90a","salt":"mysalt","pattern":"@salt@password"}`, "password", "legacy-sha256"},
	{"legacy sha256 literal pattern", `{"algorithm":"sha256","hash":"cfd2a0482d7dd7d79de89ce45ce386e5a69bf8c32caf5b1a7574edd544b7a677","salt":"mysalt","pattern":"@password{@salt}"}`, "password", "legacy-sha256"},
	{"legacy md5 pretty-printed", "{\n\t\"algorithm\": \"md5\",\r\n\t\"hash\": \"5f4dcc3b5aa765d61d8327deb882cf99\"\n}", "password", "legacy-md5"},
	{"legacy sha512 base64", `{"algorithm":"sha512","hash":"sQnzu7wkTrgkQZF+0G1hi5AI3Qmzvv0bXgc5THBqi7mAsdd4Xll27ASbRt9fEyavWi6m0QP9B8lThf+rDKy8hg=="}`, "password", "legacy-sha512"},
}

func TestForeignVectors(t *testing.T) {
	t.Parallel()
	h := New(cheap, 2)
	for _, v := range foreignVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(v.hash)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Algorithm() != v.algorithm {
				t.Errorf("Algorithm() = %q; want %q", p.Algorithm(), v.algorithm)
			}
			ok, rehash, err := h.Verify(context.Background(), v.password, v.hash)
			if err != nil || !ok || !rehash {
				t.Errorf("Verify(right) = %v, %v, %v; want true, true (foreign: always rehash), nil", ok, rehash, err)
			}
			for _, wrong := range []string{v.password + "x", strings.ToUpper(v.password), "", "x" + v.password} {
				if wrong == v.password {
					continue
				}
				ok, rehash, err := h.Verify(context.Background(), wrong, v.hash)
				if err != nil || ok || rehash {
					t.Errorf("Verify(%q) = %v, %v, %v; want false, false, nil", wrong, ok, rehash, err)
				}
			}
		})
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	t.Parallel()
	const bc = "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"
	const fbParts = "$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ=="
	kc := func(secret, data string) string {
		return fmt.Sprintf(`{"type":"password","secretData":%q,"credentialData":%q}`, secret, data)
	}
	okSecret := `{"value":"ldrCG5rCCXfcJamXcYfhvkLwHLeJYAEor0xe67MaBcY3Bca/6lTXJZg/8Zzv2VA1SkTqrof+sCCX86MSP61cpQ==","salt":"AAECAwQFBgcICQoLDA0ODw=="}`
	tests := []struct {
		name, hash string
		want       error
	}{
		{"empty", "", ErrUnknownFormat},
		{"plain text password", "hunter2", ErrUnknownFormat},
		{"md5 hex without the legacy form", "5f4dcc3b5aa765d61d8327deb882cf99", ErrUnknownFormat},
		{"argon2d", "$argon2d$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", ErrUnknownFormat},
		{"bcrypt 2x (crypt_blowfish bug mode)", "$2x$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", ErrUnknownFormat},
		{"sha-crypt", "$6$rounds=5000$saltsalt$abc", ErrUnknownFormat},
		{"oversized", "$2a$" + strings.Repeat("A", MaxHashLen), ErrMalformed},
		{"oversized JSON", `{"algorithm":"md5","hash":"` + strings.Repeat("0", 4096) + `"}`, ErrMalformed},
		{"bcrypt short", bc[:59], ErrMalformed},
		{"bcrypt long", bc + "a", ErrMalformed},
		{"bcrypt bad cost", "$2a$1x" + bc[6:], ErrMalformed},
		{"bcrypt cost below 4", "$2a$03" + bc[6:], ErrMalformed},
		{"bcrypt bad alphabet", bc[:59] + "!", ErrMalformed},
		{"bcrypt missing dollar", "$2a$10X" + bc[7:], ErrMalformed},
		{"argon2i old version", "$argon2i$v=16$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", ErrMalformed},
		{"argon2i no version", "$argon2i$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", ErrMalformed},
		{"argon2i memory 4 GiB", "$argon2i$v=19$m=4194304,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", ErrMalformed},
		{"scrypt missing p", "$scrypt$ln=10,r=8$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", ErrMalformed},
		{"scrypt repeated ln", "$scrypt$ln=10,ln=4,r=8,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", ErrMalformed},
		{"scrypt unknown param", "$scrypt$ln=10,r=8,p=1,k=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", ErrMalformed},
		{"scrypt N not a power of two", "$scrypt$ln=1000,r=8,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", ErrMalformed},
		{"scrypt ln zero", "$scrypt$ln=0,r=8,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", ErrMalformed},
		{"scrypt r zero", "$scrypt$ln=10,r=0,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", ErrMalformed},
		{"scrypt negative", "$scrypt$ln=10,r=-8,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", ErrMalformed},
		{"scrypt short hash", "$scrypt$ln=10,r=8,p=1$TmFDbA$/bq+HJ00", ErrMalformed},
		{"scrypt bad base64", "$scrypt$ln=10,r=8,p=1$TmFDbA$!!!!HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI", ErrMalformed},
		{"scrypt newline in hash", "$scrypt$ln=10,r=8,p=1$TmFDbA$/bq+HJ00cgB4Vu\ncZDQHp/nxq18vII3gw53N2Y0s3MWI", ErrMalformed},
		{"firebase mem zero", "$firebase-scrypt$rounds=8,mem=0" + fbParts, ErrMalformed},
		{"firebase mem 32", "$firebase-scrypt$rounds=8,mem=32" + fbParts, ErrMalformed},
		{"firebase missing field", "$firebase-scrypt$rounds=8,mem=14$Bw==$42xEC+ixf3L2lw==$lSrfV15cpx95", ErrMalformed},
		{"firebase hash length differs from key", "$firebase-scrypt$rounds=8,mem=14$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9A", ErrMalformed},
		{"pbkdf2 unknown digest", "$pbkdf2-md5$i=1000$c2FsdA$SwB5AbdlSJq+rUnZJvch0GWkKcE", ErrMalformed},
		{"pbkdf2 zero iterations", "$pbkdf2-sha1$i=0,l=20$c2FsdA$SwB5AbdlSJq+rUnZJvch0GWkKcE", ErrMalformed},
		{"pbkdf2 l mismatch", "$pbkdf2-sha1$i=4096,l=32$c2FsdA$SwB5AbdlSJq+rUnZJvch0GWkKcE", ErrMalformed},
		{"pbkdf2 missing i", "$pbkdf2-sha1$l=20$c2FsdA$SwB5AbdlSJq+rUnZJvch0GWkKcE", ErrMalformed},
		{"pbkdf2 short key", "$pbkdf2-sha1$i=4096$c2FsdA$SwB5AbdlSJq", ErrMalformed},
		{"django bad iterations", "pbkdf2_sha256$87e4$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", ErrMalformed},
		{"django leading zero", "pbkdf2_sha256$0870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", ErrMalformed},
		{"django empty salt", "pbkdf2_sha256$870000$$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", ErrMalformed},
		{"django md5", "pbkdf2_md5$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", ErrMalformed},
		{"django extra field", "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=$", ErrMalformed},
		{"keycloak argon2", kc(okSecret, `{"hashIterations":5,"algorithm":"argon2"}`), ErrMalformed},
		{"keycloak otp credential", `{"type":"otp","secretData":"{}","credentialData":"{}"}`, ErrMalformed},
		{"keycloak secret not JSON", kc(`value`, `{"hashIterations":27500,"algorithm":"pbkdf2-sha256"}`), ErrMalformed},
		{"keycloak no salt", kc(`{"value":"ldrCG5rCCXfcJamXcYfhvkLwHLeJYAEor0xe67MaBcY3Bca/6lTXJZg/8Zzv2VA1SkTqrof+sCCX86MSP61cpQ=="}`, `{"hashIterations":27500,"algorithm":"pbkdf2-sha256"}`), ErrMalformed},
		{"keycloak zero iterations", kc(okSecret, `{"hashIterations":0,"algorithm":"pbkdf2-sha256"}`), ErrMalformed},
		{"keycloak negative iterations", kc(okSecret, `{"hashIterations":-1,"algorithm":"pbkdf2-sha256"}`), ErrMalformed},
		{"keycloak truncated JSON", `{"secretData":"{`, ErrMalformed},
		{"legacy unknown algorithm", `{"algorithm":"md4","hash":"5f4dcc3b5aa765d61d8327deb882cf99"}`, ErrMalformed},
		{"legacy unknown member", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99","rounds":1000}`, ErrMalformed},
		{"legacy trailing value", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99"}{}`, ErrMalformed},
		{"legacy wrong digest length", `{"algorithm":"sha256","hash":"5f4dcc3b5aa765d61d8327deb882cf99"}`, ErrMalformed},
		{"legacy not hex", `{"algorithm":"md5","hash":"zz4dcc3b5aa765d61d8327deb882cf99"}`, ErrMalformed},
		{"legacy pattern without password", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99","pattern":"@salt"}`, ErrMalformed},
		{"legacy pattern password twice", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99","pattern":"@password@password"}`, ErrMalformed},
		{"legacy pattern salt twice", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99","salt":"s","pattern":"@salt@password@salt"}`, ErrMalformed},
		{"legacy salt without placeholder", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99","salt":"s","pattern":"@password"}`, ErrMalformed},
		{"legacy NUL in pattern", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99","salt":"s","pattern":"\u0000salt@password@salt"}`, ErrMalformed},
		{"legacy pattern too long", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99","pattern":"@password` + strings.Repeat("x", 200) + `"}`, ErrMalformed},
		{"legacy salt too long", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99","salt":"` + strings.Repeat("s", 257) + `"}`, ErrMalformed},
		{"NUL in a Django salt", "pbkdf2_sha256$870000$sea\x00salt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", ErrMalformed},
		{"newline in a Django salt", "pbkdf2_sha256$870000$sea\nsalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", ErrMalformed},
		{"DEL in bcrypt", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcg\x7f", ErrMalformed},
		{"invalid UTF-8", "pbkdf2_sha256$870000$sea\xffsalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", ErrMalformed},
		{"NUL in legacy JSON", "{\"algorithm\":\"md5\",\"hash\":\"5f4dcc3b5aa765d61d8327deb882cf99\"}\x00", ErrMalformed},
		{"legacy array", `["md5","5f4dcc3b5aa765d61d8327deb882cf99"]`, ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := Parse(tt.hash)
			if !errors.Is(err, tt.want) || v != nil {
				t.Fatalf("Parse = %v, %v; want %v", v, err, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if len(tt.hash) > 20 && strings.Contains(err.Error(), tt.hash[len(tt.hash)-16:]) {
				t.Errorf("error quotes the hash: %v", err)
			}
			// Verify refuses it the same way, before any work.
			ok, rehash, err := New(cheap, 1).Verify(context.Background(), "password", tt.hash)
			if !errors.Is(err, ErrMalformed) || ok || rehash {
				t.Errorf("Verify = %v, %v, %v; want ErrMalformed", ok, rehash, err)
			}
		})
	}
}

// TestCostLimits parses hashes at each limit (accepted) and one step over
// (refused with ErrCostLimit); none is verified, so the test costs nothing.
func TestCostLimits(t *testing.T) {
	t.Parallel()
	const bcTail = "$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"
	const s64 = "$c29tZXNhbHQ$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI"
	const fb = "$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ=="
	const pb32 = "$c2FsdA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI"
	kc := func(iter int, alg string) string {
		return fmt.Sprintf(`{"secretData":"{\"value\":\"ldrCG5rCCXfcJamXcYfhvkLwHLeJYAEor0xe67MaBcY3Bca/6lTXJZg/8Zzv2VA1SkTqrof+sCCX86MSP61cpQ==\",\"salt\":\"AAECAwQFBgcICQoLDA0ODw==\"}","credentialData":"{\"hashIterations\":%d,\"algorithm\":\"%s\"}"}`, iter, alg)
	}
	tests := []struct{ name, atLimit, over string }{
		{"bcrypt cost", "$2a$13" + bcTail, "$2a$14" + bcTail},
		{"bcrypt cost 31", "$2b$13" + bcTail, "$2b$31" + bcTail},
		{"scrypt N·r (log2)", "$scrypt$ln=17,r=8,p=1" + s64, "$scrypt$ln=18,r=8,p=1" + s64},
		{"scrypt N·r (N)", "$scrypt$ln=131072,r=8,p=1" + s64, "$scrypt$ln=262144,r=8,p=1" + s64},
		{"scrypt p", "$scrypt$ln=14,r=8,p=8" + s64, "$scrypt$ln=14,r=8,p=9" + s64},
		{"scrypt r huge", "$scrypt$ln=1,r=524288,p=1" + s64, "$scrypt$ln=1,r=4294967295,p=4294967295" + s64},
		{"scrypt N 2^31", "$scrypt$ln=20,r=1,p=1" + s64, "$scrypt$ln=31,r=1,p=1" + s64},
		{"firebase mem", "$firebase-scrypt$rounds=8,mem=17" + fb, "$firebase-scrypt$rounds=8,mem=18" + fb},
		{"firebase rounds", "$firebase-scrypt$rounds=64,mem=14" + fb, "$firebase-scrypt$rounds=65,mem=14" + fb},
		{"pbkdf2-sha256 iterations", "$pbkdf2-sha256$i=3000000" + pb32, "$pbkdf2-sha256$i=3000001" + pb32},
		{"pbkdf2 iterations × blocks", "$pbkdf2-sha1$i=1500000" + pb32, "$pbkdf2-sha1$i=1500001" + pb32},
		{"django iterations", "pbkdf2_sha256$3000000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", "pbkdf2_sha256$3000001$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac="},
		{"django iterations 2^32-1", "pbkdf2_sha256$1$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", "pbkdf2_sha256$4294967295$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac="},
		// A 64-byte SHA-256 key is two PBKDF2 blocks.
		{"keycloak iterations × blocks", kc(1500000, "pbkdf2-sha256"), kc(1500001, "pbkdf2-sha256")},
		{"keycloak sha512", kc(3000000, "pbkdf2-sha512"), kc(3000001, "pbkdf2-sha512")},
		{"argon2i memory × passes", "$argon2i$v=19$m=262144,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "$argon2i$v=19$m=262144,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"},
		{"argon2id memory × passes", "$argon2id$v=19$m=65536,t=8,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "$argon2id$v=19$m=65537,t=8,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Check(tt.atLimit); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			if err := Check(tt.over); !errors.Is(err, ErrCostLimit) {
				t.Errorf("over the limit: %v; want ErrCostLimit", err)
			}
		})
	}
}

// TestForeignVerifyWaitsForSlot: a foreign verification takes a hashing
// slot like an argon2id one, and waits while none is free.
func TestForeignVerifyWaitsForSlot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := New(cheap, 1)
		h.sem <- struct{}{} // the only slot is busy
		var done bool
		var ok bool
		var err error
		var wg sync.WaitGroup
		wg.Go(func() {
			ok, _, err = h.Verify(context.Background(), "password", `{"algorithm":"md5","hash":"5f4dcc3b5aa765d61d8327deb882cf99"}`)
			done = true
		})
		synctest.Wait()
		if done {
			t.Errorf("a foreign verification ran with no free slot")
		}
		<-h.sem
		wg.Wait()
		if !ok || err != nil {
			t.Errorf("Verify = %v, %v; want true, nil", ok, err)
		}
		if len(h.sem) != 0 {
			t.Errorf("slot not released")
		}
	})
}

// FuzzParse: no input makes Parse panic or accept something beyond the
// bounds, and an accepted hash is no longer than MaxHashLen.
func FuzzParse(f *testing.F) {
	for _, v := range foreignVectors {
		f.Add(v.hash)
	}
	f.Add("$scrypt$ln=4294967295,r=4294967295,p=4294967295$$")
	f.Add(`{"algorithm":"md5","hash":"","salt":"@password","pattern":"@salt@salt"}`)
	f.Add(`{"secretData":"{\"value\":\"\",\"salt\":\"\"}","credentialData":"{\"hashIterations\":1e30}"}`)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			if v != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v, %v", v, err)
			}
			return
		}
		if len(s) > MaxHashLen || v.Algorithm() == "" || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("accepted %d bytes as %q", len(s), v.Algorithm())
		}
		switch x := v.(type) {
		case scryptHash:
			if x.n*x.r*x.p > maxScryptWork {
				t.Fatalf("scrypt work %d", x.n*x.r*x.p)
			}
		case firebaseHash:
			if x.n*x.r*x.p > maxScryptWork {
				t.Fatalf("firebase work %d", x.n*x.r*x.p)
			}
		case pbkdf2Hash:
			if x.iter > maxPBKDF2Work {
				t.Fatalf("pbkdf2 iterations %d", x.iter)
			}
		case argon2Hash:
			if uint64(x.p.Memory)*uint64(x.p.Time) > maxArgon2Work {
				t.Fatalf("argon2 work %d", x.p.Memory*x.p.Time)
			}
		}
	})
}
