// KCP (Debian's golang-github-xtaci-kcp-dev, kcp-go) as a baseline peer for srudp's side-by-side
// benchmarks, unencrypted and without FEC. It speaks the line protocol of
// bench/io/external_peer.hpp:
//
//	kcp_peer receive --listen IP:PORT --streams K    "listening PORT", then "received BYTES SECONDS"
//	kcp_peer send --connect IP:PORT --bytes N --streams K
//	kcp_peer echo --listen IP:PORT                   "listening PORT"
//	kcp_peer ping --connect IP:PORT --count N --size S --warmup W   "setup_ns T", "rtt_ns R1 R2 ..."
//	kcp_peer hold --listen IP:PORT --connections N    "listening PORT", then "rss_growth BYTES"
//	kcp_peer idle --connect IP:PORT --connections N   "rss_growth BYTES"
//
// hold and idle are the two sides of N idle sessions: each reports its resident set growth once
// its N are established and 300 ms have passed, then holds them for a minute. A KCP session
// exists for the listener once a packet of it arrives, so each connecting session sends a byte;
// each has its own UDP socket on the connecting side, as kcp-go's Dial makes one per session.
//
// KCP has no streams: K streams are K sessions. It has no end of stream either, so a sender
// first writes the length (8 bytes, big-endian) and the receiver answers one byte once it has
// them all, after which the sender closes. Tuning is kcptun's "fast3" (nodelay, 10 ms interval,
// fast resend after 2 duplicate ACKs, no congestion window) with 4096-packet windows, 1200-byte
// datagrams and immediate ACKs: on loopback 1024-packet windows reached 85 MB/s and 4096 106,
// 16384 less again; a 1 ms interval changed nothing. KCP_WINDOW and KCP_INTERVAL (ms) override
// the two. Each side runs with GOMAXPROCS=1 unless the environment sets it, as srudp's and
// quinn's sides each get one thread (GOMAXPROCS=2 was no faster).
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	kcp "github.com/xtaci/kcp-go"
)

const socketBuffer = 4 << 20

func tune(s *kcp.UDPSession) {
	s.SetStreamMode(true)
	s.SetWriteDelay(false)
	s.SetNoDelay(1, envInt("KCP_INTERVAL", 10), 2, 1)
	s.SetWindowSize(envInt("KCP_WINDOW", 4096), envInt("KCP_WINDOW", 4096))
	s.SetMtu(1200)
	s.SetACKNoDelay(true)
}

// Socket buffers for a listener (shared by the sessions it accepts) or a dialled session.
func setBuffers(socket interface {
	SetReadBuffer(int) error
	SetWriteBuffer(int) error
}) {
	socket.SetReadBuffer(socketBuffer)
	socket.SetWriteBuffer(socketBuffer)
}

func listen(address string) (*kcp.Listener, error) {
	l, err := kcp.ListenWithOptions(address, nil, 0, 0)
	if err != nil {
		return nil, err
	}
	setBuffers(l)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	fmt.Printf("listening %s\n", port)
	return l, nil
}

func dial(address string) (*kcp.UDPSession, error) {
	s, err := kcp.DialWithOptions(address, nil, 0, 0)
	if err != nil {
		return nil, err
	}
	setBuffers(s)
	tune(s)
	return s, nil
}

func receive(address string, streams int) error {
	l, err := listen(address)
	if err != nil {
		return err
	}
	var start time.Time
	var total int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for i := 0; i < streams; i++ {
		s, err := l.AcceptKCP()
		if err != nil {
			return err
		}
		if i == 0 {
			start = time.Now()
		}
		tune(s)
		wg.Add(1)
		go func(s *kcp.UDPSession) {
			defer wg.Done()
			var header [8]byte
			if _, err := io.ReadFull(s, header[:]); err != nil {
				errs <- err
				return
			}
			want := int64(binary.BigEndian.Uint64(header[:]))
			buffer := make([]byte, 256*1024)
			var got int64
			for got < want {
				n, err := s.Read(buffer[:min64(int64(len(buffer)), want-got)])
				if err != nil {
					errs <- err
					return
				}
				got += int64(n)
			}
			mu.Lock()
			total += got
			mu.Unlock()
			if _, err := s.Write([]byte{1}); err != nil {
				errs <- err
			}
			// Stay until the sender has the answer and closes (KCP sends no close).
			time.Sleep(200 * time.Millisecond)
		}(s)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	fmt.Printf("received %d %.6f\n", total, time.Since(start).Seconds())
	return nil
}

func send(address string, bytes int64, streams int) error {
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	chunk := make([]byte, 256*1024)
	for i := range chunk {
		chunk[i] = 0x5a
	}
	for i := 0; i < streams; i++ {
		s, err := dial(address)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func(s *kcp.UDPSession) {
			defer wg.Done()
			defer s.Close()
			var header [8]byte
			binary.BigEndian.PutUint64(header[:], uint64(bytes))
			if _, err := s.Write(header[:]); err != nil {
				errs <- err
				return
			}
			for sent := int64(0); sent < bytes; {
				n := min64(int64(len(chunk)), bytes-sent)
				if _, err := s.Write(chunk[:n]); err != nil {
					errs <- err
					return
				}
				sent += n
			}
			var answer [1]byte
			if _, err := io.ReadFull(s, answer[:]); err != nil {
				errs <- err
			}
		}(s)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	return nil
}

func echo(address string) error {
	l, err := listen(address)
	if err != nil {
		return err
	}
	s, err := l.AcceptKCP()
	if err != nil {
		return err
	}
	tune(s)
	buffer := make([]byte, 64*1024)
	for {
		// The pinging side closes without telling: a quiet second ends the echo.
		s.SetReadDeadline(time.Now().Add(time.Second))
		n, err := s.Read(buffer)
		if err != nil {
			return nil
		}
		if _, err := s.Write(buffer[:n]); err != nil {
			return err
		}
	}
}

func ping(address string, count, size, warmup int) error {
	start := time.Now()
	s, err := dial(address)
	if err != nil {
		return err
	}
	defer s.Close()
	message := make([]byte, size)
	reply := make([]byte, size)
	roundTrip := func() error {
		if _, err := s.Write(message); err != nil {
			return err
		}
		_, err := io.ReadFull(s, reply)
		return err
	}
	// KCP has no handshake: the first round trip is the set-up.
	if err := roundTrip(); err != nil {
		return err
	}
	fmt.Printf("setup_ns %d\n", time.Since(start).Nanoseconds())
	rtts := make([]string, 0, count)
	for i := 0; i < warmup+count; i++ {
		t := time.Now()
		if err := roundTrip(); err != nil {
			return err
		}
		if i >= warmup {
			rtts = append(rtts, strconv.FormatInt(time.Since(t).Nanoseconds(), 10))
		}
	}
	fmt.Printf("rtt_ns %s\n", strings.Join(rtts, " "))
	return nil
}

func envInt(name string, fallback int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return fallback
}

// Resident set size of this process (/proc/self/statm, in pages of 4 KiB).
func rssBytes() int64 {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(statm))
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * 4096
}

func reportAndHold(rssBefore int64) {
	time.Sleep(300 * time.Millisecond)
	fmt.Printf("rss_growth %d\n", rssBytes()-rssBefore)
	time.Sleep(60 * time.Second)
}

func hold(address string, connections int) error {
	l, err := listen(address)
	if err != nil {
		return err
	}
	rssBefore := rssBytes()
	held := make([]*kcp.UDPSession, 0, connections)
	for len(held) < connections {
		s, err := l.AcceptKCP()
		if err != nil {
			return err
		}
		tune(s)
		var first [1]byte
		if _, err := io.ReadFull(s, first[:]); err != nil {
			return err
		}
		held = append(held, s)
	}
	reportAndHold(rssBefore)
	return nil
}

func idle(address string, connections int) error {
	rssBefore := rssBytes()
	held := make([]*kcp.UDPSession, 0, connections)
	for len(held) < connections {
		s, err := dial(address)
		if err != nil {
			return err
		}
		if _, err := s.Write([]byte{1}); err != nil {
			return err
		}
		held = append(held, s)
	}
	reportAndHold(rssBefore)
	return nil
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kcp_peer receive|send|echo|ping|hold|idle [options]")
		os.Exit(2)
	}
	mode := os.Args[1]
	flags := flag.NewFlagSet(mode, flag.ExitOnError)
	listenAt := flags.String("listen", "127.0.0.1:0", "address to listen at")
	connectTo := flags.String("connect", "", "address to connect to")
	bytes := flags.Int64("bytes", 64<<20, "bytes per stream")
	streams := flags.Int("streams", 1, "streams (sessions)")
	count := flags.Int("count", 2000, "round trips")
	size := flags.Int("size", 64, "message size")
	warmup := flags.Int("warmup", 200, "round trips before the measured ones")
	connections := flags.Int("connections", 1000, "idle sessions")
	flags.Parse(os.Args[2:])
	var err error
	switch mode {
	case "receive":
		err = receive(*listenAt, *streams)
	case "send":
		err = send(*connectTo, *bytes, *streams)
	case "echo":
		err = echo(*listenAt)
	case "ping":
		err = ping(*connectTo, *count, *size, *warmup)
	case "hold":
		err = hold(*listenAt, *connections)
	case "idle":
		err = idle(*connectTo, *connections)
	default:
		err = errors.New("unknown mode " + mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kcp_peer:", err)
		os.Exit(1)
	}
}
