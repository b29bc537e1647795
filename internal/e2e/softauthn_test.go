package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// softAuthenticator is a WebAuthn authenticator written in the test: it
// answers the server's options the way a browser and a platform
// authenticator would (attestation "none", ES256 keys, user verified),
// so that the SDK's passkey calls are driven end to end without a
// browser. The SDK does no cryptography; this does.
type softAuthenticator struct {
	origin string
	keys   []*softKey
	// backup makes new credentials backup eligible and backed up (a
	// synced passkey: amr swk); otherwise device-bound (hwk).
	backup bool
	// noUV makes new credentials' registration answer say the user was
	// not verified (an authenticator without a PIN or biometric).
	noUV bool
}

// softKey is one credential the authenticator holds.
type softKey struct {
	id         []byte
	priv       *ecdsa.PrivateKey
	rpID       string
	userHandle []byte
	count      uint32
	backup     bool
}

var b64 = base64.RawURLEncoding

// newSoftAuthenticator answers for the server of in (passkeys' origin is
// its public URL with a loopback host spelled localhost).
func newSoftAuthenticator(t testing.TB, in *instance) *softAuthenticator {
	t.Helper()
	u, err := url.Parse(in.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &softAuthenticator{origin: "http://localhost:" + u.Port()}
}

type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		AuthenticatorSelection struct {
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
	} `json:"publicKey"`
}

type requestOptions struct {
	PublicKey struct {
		Challenge        string `json:"challenge"`
		RPID             string `json:"rpId"`
		UserVerification string `json:"userVerification"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

func (k *softKey) flags() byte {
	f := byte(flagUP | flagUV)
	if k.backup {
		f |= flagBE | flagBS
	}
	return f
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// create makes a credential for the options of a registration and
// returns the browser's answer (PublicKeyCredential JSON) and the key.
func (a *softAuthenticator) create(t testing.TB, options json.RawMessage) (json.RawMessage, *softKey) {
	t.Helper()
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("creation options: %v: %s", err, options)
	}
	if o.PublicKey.Challenge == "" || o.PublicKey.RP.ID == "" || o.PublicKey.User.ID == "" {
		t.Fatalf("creation options lack challenge, rp id or user id: %s", options)
	}
	if o.PublicKey.AuthenticatorSelection.ResidentKey != "required" {
		t.Fatalf("registration does not ask for a discoverable credential: %s", options)
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		t.Fatalf("user id: %v", err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &softKey{id: make([]byte, 32), priv: priv, rpID: o.PublicKey.RP.ID, userHandle: handle, backup: a.backup}
	_, _ = rand.Read(k.id)
	a.keys = append(a.keys, k)

	x, y := make([]byte, 32), make([]byte, 32)
	priv.PublicKey.X.FillBytes(x)
	priv.PublicKey.Y.FillBytes(y)
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		t.Fatal(err)
	}
	rp := sha256.Sum256([]byte(k.rpID))
	auth := append([]byte{}, rp[:]...)
	regFlags := k.flags() | flagAT
	if a.noUV {
		regFlags &^= flagUV
	}
	auth = append(auth, regFlags)
	auth = binary.BigEndian.AppendUint32(auth, k.count)
	auth = append(auth, make([]byte, 16)...) // AAGUID: none given
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(k.id)))
	auth = append(auth, k.id...)
	auth = append(auth, cose...)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		t.Fatal(err)
	}
	cd := clientData("webauthn.create", o.PublicKey.Challenge, a.origin)
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cd), "attestationObject": b64.EncodeToString(att),
			"transports": []string{"internal", "hybrid"},
		},
	})
	return out, k
}

// assertion is what get signs, open to tampering by the test.
type assertion struct {
	origin    string
	count     uint32 // the counter to report
	handle    []byte // the user handle to send (nil: the key's)
	flags     byte   // 0: the key's flags
	tamper    bool   // flip a bit of the signature
	challenge string // "" : the options' challenge
}

// get answers the options of a sign-in with key k (counting one use) and
// returns the browser's answer.
func (a *softAuthenticator) get(t testing.TB, options json.RawMessage, k *softKey) json.RawMessage {
	t.Helper()
	k.count++
	return a.getWith(t, options, k, assertion{count: k.count})
}

func (a *softAuthenticator) getWith(t testing.TB, options json.RawMessage, k *softKey, as assertion) json.RawMessage {
	t.Helper()
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("request options: %v: %s", err, options)
	}
	if o.PublicKey.Challenge == "" || o.PublicKey.RPID != k.rpID {
		t.Fatalf("request options: challenge %q, rp id %q (key's %q)", o.PublicKey.Challenge, o.PublicKey.RPID, k.rpID)
	}
	if as.origin == "" {
		as.origin = a.origin
	}
	if as.handle == nil {
		as.handle = k.userHandle
	}
	if as.flags == 0 {
		as.flags = k.flags()
	}
	if as.challenge == "" {
		as.challenge = o.PublicKey.Challenge
	}
	rp := sha256.Sum256([]byte(k.rpID))
	auth := append([]byte{}, rp[:]...)
	auth = append(auth, as.flags)
	auth = binary.BigEndian.AppendUint32(auth, as.count)
	cd := clientData("webauthn.get", as.challenge, as.origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if as.tamper {
		sig[len(sig)-1] ^= 1
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(as.handle),
		},
	})
	return out
}
