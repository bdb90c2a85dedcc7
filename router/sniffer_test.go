package router

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"rosh/link"
)

func readPcap(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			return out
		}
		out = append(out, data)
	}
}

func frameFrom(src byte, n int) []byte {
	f := make([]byte, n)
	copy(f, []byte{2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, src, 0x88, 0x64})
	return f
}

// TestSniffer: start captures what the port sends and receives that
// passes filter-mac-address, into the file up to file-limit and into
// memory up to memory-limit; stop ends it; save writes what memory kept.
func TestSniffer(t *testing.T) {
	r, port := benchRuntime(t)
	dir := t.TempDir()
	err := r.SnifferStart(SnifferConfig{
		Interfaces:  []string{"ether1"},
		MACs:        []net.HardwareAddr{{2, 0, 0, 0, 0, 1}},
		FileName:    filepath.Join(dir, "live.pcap"),
		FileLimit:   24 + 3*(16+100),
		MemoryLimit: 2 * 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		port.WriteFrame(frameFrom(1, 100)) // from the filtered MAC
		port.WriteFrame(frameFrom(7, 100)) // from another
	}
	if running, n := r.SnifferRunning(); !running || n != 5 {
		t.Errorf("running %v with %d frames, want 5", running, n)
	}
	if err := r.SnifferStop(); err != nil {
		t.Fatal(err)
	}
	port.WriteFrame(frameFrom(1, 100))
	if err := r.SnifferSave(filepath.Join(dir, "saved.pcap")); err != nil {
		t.Fatal(err)
	}
	live, saved := readPcap(t, filepath.Join(dir, "live.pcap")), readPcap(t, filepath.Join(dir, "saved.pcap"))
	if len(live) != 3 || len(saved) != 2 || !bytes.Equal(live[0], frameFrom(1, 100)) {
		t.Errorf("file has %d frames (want 3, file-limit), save %d (want 2, memory-limit)", len(live), len(saved))
	}
	if running, _ := r.SnifferRunning(); running {
		t.Error("running after stop")
	}
}

// TestSnifferQuick: quick hands every frame over as it comes, until its
// duration is over.
func TestSnifferQuick(t *testing.T) {
	r, port := benchRuntime(t)
	go func() {
		time.Sleep(100 * time.Millisecond)
		port.WriteFrame(frameFrom(1, 60))
	}()
	var got []SniffedFrame
	err := r.SnifferQuick(SnifferConfig{Interfaces: []string{"ether1"}}, 500*time.Millisecond, nil, func(f SniffedFrame) { got = append(got, f) })
	if err != nil || len(got) != 1 || got[0].Dir != link.Sent || got[0].Interface != "ether1" {
		t.Fatalf("quick: %v, frames %+v", err, got)
	}
	if err := r.SnifferQuick(SnifferConfig{Interfaces: []string{"nosuch"}}, time.Millisecond, nil, func(SniffedFrame) {}); err == nil {
		t.Error("quick on an interface that does not open: no error")
	}
}

func TestDescribeFrame(t *testing.T) {
	lcp := append([]byte{
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0x64, // Ethernet, PPPoE session
		0x11, 0x00, 0x12, 0x34, 0x00, 0x14, // session 0x1234, length 20
		0xc0, 0x21, // LCP
	}, lcpConfReq...)
	if got, want := DescribeFrame(lcp), "PPPoE id=0x1234 LCP ConfReq id=0x1 <mru 1480> <auth pap> <magic 0x1a2b3c4d>"; got != want {
		t.Errorf("DescribeFrame = %q, want %q", got, want)
	}
	if got := DescribeFrame([]byte{1, 2, 3}); got != "malformed len=3" {
		t.Errorf("DescribeFrame(short) = %q", got)
	}
}
