package ppptest

import (
	"bytes"
	"testing"

	"rosh/ppp"
)

func TestCapturePcap(t *testing.T) {
	var c Capture
	c.Add(Epoch, true, ppp.ProtoLCP, []byte{1, 1, 0, 4})
	var buf bytes.Buffer
	if err := c.WritePcap(&buf); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if len(b) != 24+16+3+4 || b[20] != linkTypePPPWithDir || b[24+16] != 1 || b[24+17] != 0xc0 || b[24+18] != 0x21 {
		t.Fatalf("pcap %x", b)
	}
}
