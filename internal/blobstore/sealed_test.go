package blobstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow/internal/payloadcodec"
)

// ring returns a payload codec of keys "id" whose secret is 32 bytes of
// seed, the first key current.
func ring(t *testing.T, keys ...payloadcodec.Key) *payloadcodec.Codec {
	t.Helper()
	c, err := payloadcodec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func key(id string, seed byte) payloadcodec.Key {
	return payloadcodec.Key{ID: id, Secret: bytes.Repeat([]byte{seed}, payloadcodec.KeySize)}
}

// fileOf returns the path and content of ref's payload file.
func fileOf(t *testing.T, d *Disk, ref string) (string, []byte) {
	t.Helper()
	digest, err := digestOf(ref)
	if err != nil {
		t.Fatal(err)
	}
	p := d.path(digest)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

// noKeyMaterial fails when err shows a key's bytes (raw or base64).
func noKeyMaterial(t *testing.T, err error, keys ...payloadcodec.Key) {
	t.Helper()
	for _, k := range keys {
		for _, enc := range []string{string(k.Secret), base64.StdEncoding.EncodeToString(k.Secret), base64.RawURLEncoding.EncodeToString(k.Secret)} {
			if strings.Contains(err.Error(), enc) {
				t.Fatalf("error shows the bytes of %v: %v", k, err)
			}
		}
	}
}

const marker = "PLAINTEXT-MARKER-7f3a"

func TestSealedRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte(`{"k":"`+marker+`"},`), 64<<10)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"small", []byte(`{"secret":"` + marker + `"}`)},
		{"empty", []byte{}},
		{"large", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			d := testDisk(t).WithSealer(ring(t, key("k1", 1)))
			ref, err := d.Put(ctx, "wf/step", tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if ref != RefOf(tc.data) {
				t.Fatalf("ref = %s, want the plaintext's address %s", ref, RefOf(tc.data))
			}
			_, stored := fileOf(t, d, ref)
			if !IsSealed(stored) || bytes.Contains(stored, []byte(marker)) {
				t.Fatalf("file is not sealed or shows the plaintext: %.40q", stored)
			}
			if !bytes.Contains(stored[:len(sealMagic)+3], []byte("k1")) {
				t.Fatalf("header does not name the key id: %.40q", stored)
			}
			again, err := d.Put(ctx, "retry", tc.data)
			if err != nil || again != ref {
				t.Fatalf("second Put = %s, %v; want %s", again, err, ref)
			}
			if _, now := fileOf(t, d, ref); !bytes.Equal(now, stored) {
				t.Fatal("second Put of stored content rewrote the file")
			}
			got, err := d.Get(ctx, ref)
			if err != nil || !bytes.Equal(got, tc.data) {
				t.Fatalf("Get = %d bytes, %v; want the %d bytes stored", len(got), err, len(tc.data))
			}
		})
	}
}

func TestSealedNoncesDiffer(t *testing.T) {
	c := ring(t, key("k1", 1))
	a, b := testDisk(t).WithSealer(c), testDisk(t).WithSealer(c)
	data := []byte(`{"same":"content"}`)
	refA, errA := a.Put(context.Background(), "a", data)
	refB, errB := b.Put(context.Background(), "b", data)
	if errA != nil || errB != nil || refA != refB {
		t.Fatalf("Put = %s, %v / %s, %v", refA, errA, refB, errB)
	}
	_, fa := fileOf(t, a, refA)
	_, fb := fileOf(t, b, refB)
	if bytes.Equal(fa, fb) {
		t.Fatal("the same content sealed twice gave the same file: nonce reused")
	}
}

func TestSealedRotation(t *testing.T) {
	ctx := context.Background()
	old, cur := key("2025-q4", 1), key("2026-q1", 2)
	base := testDisk(t)
	before := base.WithSealer(ring(t, old))
	refOld, err := before.Put(ctx, "k", []byte(`"sealed with the old key"`))
	if err != nil {
		t.Fatal(err)
	}
	after := base.WithSealer(ring(t, cur, old))
	if got, err := after.Get(ctx, refOld); err != nil || string(got) != `"sealed with the old key"` {
		t.Fatalf("Get of an old-key blob after rotation = %q, %v", got, err)
	}
	refNew, err := after.Put(ctx, "k", []byte(`"sealed with the new key"`))
	if err != nil {
		t.Fatal(err)
	}
	if _, stored := fileOf(t, after, refNew); !bytes.HasPrefix(stored, []byte(sealMagic+"\x07"+cur.ID)) {
		t.Fatalf("new blob header = %.20q, want key id %s", stored, cur.ID)
	}
	// A worker still on the old ring cannot open it, and says which key.
	_, err = before.Get(ctx, refNew)
	if !errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), `"2026-q1"`) || !strings.Contains(err.Error(), refNew) {
		t.Fatalf("Get without the new key = %v, want ErrSealed naming the key id and the ref", err)
	}
	noKeyMaterial(t, err, old, cur)
}

func TestSealedReadsAndUpgradesPlainBlobs(t *testing.T) {
	ctx := context.Background()
	plain := testDisk(t)
	data := []byte(`{"written":"before encryption"}`)
	ref, err := plain.Put(ctx, "k", data)
	if err != nil {
		t.Fatal(err)
	}
	sealed := plain.WithSealer(ring(t, key("k1", 1)))
	if got, err := sealed.Get(ctx, ref); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("sealed store Get of a plain blob = %q, %v", got, err)
	}
	if _, stored := fileOf(t, sealed, ref); IsSealed(stored) {
		t.Fatal("Get rewrote a plain blob")
	}
	// Stored again with encryption on: the file is sealed.
	if again, err := sealed.Put(ctx, "k", data); err != nil || again != ref {
		t.Fatalf("Put = %s, %v", again, err)
	}
	if _, stored := fileOf(t, sealed, ref); !IsSealed(stored) {
		t.Fatal("Put of plain stored content with a sealer left it plain")
	}
	if got, err := sealed.Get(ctx, ref); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after resealing = %q, %v", got, err)
	}
	// A store without the key ring refuses it clearly.
	_, err = plain.Get(ctx, ref)
	if !errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), `"k1"`) || !strings.Contains(err.Error(), "no payload key ring") {
		t.Fatalf("plain store Get of a sealed blob = %v", err)
	}
}

func TestSealedOpenErrors(t *testing.T) {
	k1, other := key("k1", 1), key("k1", 9) // same id, other secret
	data := []byte(`{"x":"` + marker + `"}`)
	tests := []struct {
		name   string
		ring   []payloadcodec.Key
		tamper func([]byte) []byte
		want   []string
	}{
		{"ciphertext byte flipped", []payloadcodec.Key{k1}, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, []string{"authentication failed", `"k1"`}},
		{"key id rewritten", []payloadcodec.Key{k1, key("k2", 2)}, func(b []byte) []byte { b[len(sealMagic)+2] = '2'; return b }, []string{"authentication failed", `"k2"`}},
		{"truncated", []payloadcodec.Key{k1}, func(b []byte) []byte { return b[:len(sealMagic)+4] }, []string{"too short"}},
		{"header cut", []payloadcodec.Key{k1}, func(b []byte) []byte { return b[:len(sealMagic)+2] }, []string{"truncated header"}},
		{"wrong key under the same id", []payloadcodec.Key{other}, func(b []byte) []byte { return b }, []string{"authentication failed", `"k1"`}},
		{"key id not in the ring", []payloadcodec.Key{key("k9", 9)}, func(b []byte) []byte { return b }, []string{"unknown key id", `"k1"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			base := testDisk(t)
			ref, err := base.WithSealer(ring(t, k1)).Put(ctx, "k", data)
			if err != nil {
				t.Fatal(err)
			}
			p, stored := fileOf(t, base, ref)
			if err := os.WriteFile(p, tc.tamper(stored), 0o640); err != nil {
				t.Fatal(err)
			}
			got, err := base.WithSealer(ring(t, tc.ring...)).Get(ctx, ref)
			if !errors.Is(err, ErrSealed) || got != nil {
				t.Fatalf("Get = %q, %v; want ErrSealed", got, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			noKeyMaterial(t, err, k1, other)
		})
	}
}

func TestSealedPlainSubstituteMustMatchRef(t *testing.T) {
	// Pass-through of plain files gives no way around the content check: a
	// sealed file replaced by other plain bytes is reported as corrupted.
	ctx := context.Background()
	d := testDisk(t).WithSealer(ring(t, key("k1", 1)))
	ref, err := d.Put(ctx, "k", []byte(`{"ok":true}`))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := fileOf(t, d, ref)
	if err := os.WriteFile(p, []byte(`{"ok":false}`), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, ref); err == nil || !strings.Contains(err.Error(), "corrupted") {
		t.Fatalf("Get = %v, want a corruption error", err)
	}
}

func TestSealedGCAndRescue(t *testing.T) {
	ctx := context.Background()
	d := testDisk(t).WithSealer(ring(t, key("k1", 1)))
	_, oldPath := putAged(t, d, `"old sealed"`, 40*day)
	freshRef, freshPath := putAged(t, d, `"fresh sealed"`, 1*day)
	st, err := d.Stats(ctx)
	if err != nil || st.Blobs != 2 {
		t.Fatalf("Stats = %+v, %v; want 2 blobs", st, err)
	}
	rep, err := d.GC(ctx, GCOptions{OlderThan: 30 * day})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 1 || rep.Kept != 1 || exists(oldPath) || !exists(freshPath) {
		t.Fatalf("GC = %+v; old left: %v, fresh left: %v", rep, exists(oldPath), exists(freshPath))
	}
	// A sealed payload GC has moved aside is read from there and put back
	// as it was (still sealed).
	digest, _ := digestOf(freshRef)
	aside := filepath.Join(filepath.Dir(freshPath), trashPrefix+digest+"-x")
	if err := os.Rename(freshPath, aside); err != nil {
		t.Fatal(err)
	}
	got, err := d.Get(ctx, freshRef)
	if err != nil || string(got) != `"fresh sealed"` {
		t.Fatalf("Get of a payload moved aside = %q, %v", got, err)
	}
	if _, stored := fileOf(t, d, freshRef); !IsSealed(stored) {
		t.Fatal("payload put back unsealed")
	}
}
