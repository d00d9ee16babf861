/*
 * The simulated board's protocol mode: it opens a pseudo-terminal — its "UART" — prints
 * `PTY /dev/pts/N` on stdout, and serves docs/protocol.md on it: HELLO/HELLO_ACK with its image's
 * fingerprint and ranges, PING/PONG, the reliable link, and the §5 messages run on its stage.
 *
 *   tinypipe-board --pty --image PATH [--board N] [--ber P] [--drop P] [--seed S]
 *   tinypipe-board --pty --flash FILE [--flash-size BYTES] [--chip-id 9] [--mac aa:bb:…]
 *                  [--erase-us-per-mb U] [--md5-us-per-mb U] [--drop-after N] [--corrupt-block K] [--board N]
 *   either with [--streams K] [--psram BYTES] [--stage-us N] [--preload-us P] [--line-baud B]: KV caches for K
 *   streams, as many of them as BYTES hold when given (a board's PSRAM: its KV format sets how many fit); pace
 *   each message's compute to N µs, of which up to P µs were done while the board waited (the data cache
 *   preload of the ESP-IDF port), and the board's transmit to B baud, to behave like the board emulated
 *   and, in a chain (docs/protocol.md §4.4), where the first PTY stays the board's USB port (the flasher's;
 *   the first board's host link):
 *     --in-pty      every board but the first: the previous board's UART reaches it on another PTY
 *                   (printed as `PTY_IN /dev/pts/K`), its link in after boot
 *     --next PATH   every board but the last: its UART to the next board, PATH being that board's PTY_IN
 *     --out-pty     the last board: its UART to the host, a PTY printed as `PTY_OUT /dev/pts/M`
 *
 * With --flash it is a virtual ESP32-S3 in download mode (loader.c; docs/esp-rom.md): its ROM loader answers a
 * flasher on the PTY, and esptool's flasher stub once uploaded; a reset (FLASH_END to the ROM, FLASH_END(reboot)
 * or RUN_USER_CODE to the stub, esptool's RTC-watchdog reset, or SIGUSR1 as the EN pin) boots the firmware
 * from the partition table in the flash file. The flash (BYTES a power of two, 256 KiB to 256 MiB) is erased
 * (0xFF) when the file is new; a file of another size is refused; an erase takes U µs per MiB (default 10000).
 * --boot powers it on with GPIO0 high instead: it boots its flash at once, as a chip no flasher holds in
 * download mode does (a ring board plugged back in: no signal to race the ROM's handler).
 *
 * --stall-ms MS: each time the process could not run for longer than MS (a loaded machine, a SIGSTOP), a line
 * `stall: N ms` on stderr (pty_stall.c), so a test can tell a late ACK of this board's from a protocol fault.
 *
 * --ber / --drop damage the bytes it sends and receives (seeded), so the host's ARQ is exercised against
 * the C side too. Events (accepted, refused, link down) go to stderr, one line each. It exits when its
 * stdin closes (the parent went away) or on SIGTERM. The lines themselves — the PTYs, the --ber / --drop
 * damage, the --line-baud transmit — are pty_uart.c's; the options are parsed by pty_options.c.
 */
#define _GNU_SOURCE /* ppoll (Linux); everything of _XOPEN_SOURCE 700 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../src/board.h"
#include "md5.h"
#include "pty_options.h"
#include "pty_ring.h"
#include "pty_stall.h"
#include "pty_uart.h"
#include "rom.h"

int serve_pty(int argc, char **argv);

static tp_image image;
static tp_stage stages[TP_SERVE_MAX_STREAMS];
static int streams = 4;
static size_t psram; /* --psram: the bytes the stream arenas may take together (0: no limit) */
static tp_server server;
static int master = -1;  /* the board's USB port: the ROM's, then the host's link */
static int in_fd = -1;   /* chain, all but the first board: the UART from the previous board */
static int up_fd = -1;   /* where the board's link in is after boot: master, or in_fd */
static int down_fd = -1; /* chain: the UART to the next board, or (last board) to the host */
static int in_pty;       /* --in-pty */
static int chain_mode;   /* TP_CHAIN_* */
static const char *next_path;
static long stage_us, preload_us, line_baud; /* emulation of a real board's speed (0: as fast as the host) */

/* --stage-us: a message's compute takes at least this long, as on the board being emulated. --preload-us:
 * the ESP-IDF port starts preloading its first weights into the data cache when a message's compute ends,
 * so the next one finds up to that much of its flash streaming done — as much as the board waited. */
static void pace(void *port, int starting) {
    static long long started, ended = -1;
    (void)port;
    if (starting) {
        started = tp_uart_now_us();
        return;
    }
    long long waited = ended < 0 ? preload_us : started - ended;
    tp_uart_sleep_until_us(started + stage_us - (waited < preload_us ? waited : preload_us));
    ended = tp_uart_now_us();
}

static void port_write(void *port, const uint8_t *bytes, size_t n) {
    static uint8_t copy[TP_MAX_WIRE];
    memcpy(copy, bytes, n);
    tp_uart_send(port == &down_fd, (int *)port, copy, tp_uart_damage(copy, n), line_baud);
}

/* --line-baud: when the frame just written leaves the pin (the link times its retransmission from there). */
static uint32_t port_departs(void *port) { return tp_uart_departs_ms(port == &down_fd); }

static uint32_t port_now(void *port) {
    (void)port;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)(ts.tv_sec * 1000u + ts.tv_nsec / 1000000);
}

static uint32_t port_now_us(void *port) {
    (void)port;
    return (uint32_t)tp_uart_now_us();
}

static void port_log(void *port, const char *line) {
    (void)port;
    fprintf(stderr, "tinypipe-board: %s\n", line);
}

/* Reads what the lines have (waiting up to wait_ms), runs the links' timers; 0, or -1 to exit. */
static int pump(void *port, int wait_ms) {
    (void)port;
    struct pollfd fds[3] = {{0, POLLIN, 0}, {up_fd, POLLIN, 0}, {down_fd, POLLIN, 0}};
    long long now = tp_uart_now_us(), wait = tp_uart_next_due(now + (long long)wait_ms * 1000) - now;
    if (wait < 0) wait = 0;
#ifdef __linux__ /* µs: a 2 Mbaud activation takes 1.3 ms, a millisecond's rounding would show */
    struct timespec ts = {(time_t)(wait / 1000000), (long)(wait % 1000000) * 1000};
    int r = ppoll(fds, down_fd >= 0 ? 3 : 2, &ts, NULL);
#else
    int r = poll(fds, down_fd >= 0 ? 3 : 2, (int)((wait + 999) / 1000));
#endif
    tp_uart_flush(tp_uart_now_us());
    if (down_fd < 0) fds[2].revents = 0;
    if (r > 0 && (fds[0].revents & (POLLIN | POLLHUP)) && tp_ring_stdin() != 0) return -1; /* the parent is gone */
    for (int i = 1; r > 0 && i < 3; i++) {
        /* the next board's end also wakes us when it hangs up: read, so that we see the end of the line */
        int wake = POLLIN | (i == 2 && next_path ? POLLHUP | POLLERR : 0);
        if (!(fds[i].revents & wake)) continue;
        static uint8_t buf[4096];
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n > 0) tp_link_rx(i == 1 ? &server.link : &server.down, buf, tp_uart_damage(buf, (size_t)n));
        else if (i == 2 && next_path && (n == 0 || (errno != EAGAIN && errno != EINTR))) {
            /* the next board's PTY is gone (its process ended; a hung-up PTY reads as end of file forever,
               so leaving it open would spin here): try its path again every 500 ms */
            close(down_fd);
            down_fd = -1;
        }
    }
    static uint32_t retry_at;
    if (down_fd < 0 && next_path && port_now(NULL) - retry_at > 500) {
        retry_at = port_now(NULL);
        down_fd = open(next_path, O_RDWR | O_NOCTTY);
    }
    tp_link_poll(&server.link);
    /* with the next board's PTY closed too: the link's heartbeat must still notice the silence */
    if (chain_mode != TP_CHAIN_NONE) tp_link_poll(&server.down);
    return 0;
}

/* tp_board_alloc_fn: a stream's arena, allocated once, at boot (its KV cache lives in it) */
static void *alloc_arena(void *ctx, size_t bytes) {
    static size_t used;
    void *arena = NULL;
    (void)ctx;
    if (psram && (bytes > psram || used > psram - bytes)) return NULL; /* the PSRAM is full */
    used += bytes;
    return posix_memalign(&arena, 16, bytes) == 0 ? arena : NULL;
}

/* Verifies the image at bytes and serves the protocol with it (a refused image still answers HELLO, with no
 * fingerprint, and ERROR to every message, as the ESP-IDF app does). Returns when told to stop. */
static int serve_image(const uint8_t *bytes, size_t size, unsigned board) {
    static float logits[TP_SERVE_MAX_VOCAB_ROWS];
    int ready = streams; /* --streams K: a KV cache each, as many as memory holds */
    tp_status s = bytes ? tp_board_init(&image, bytes, size, stages, &ready, alloc_arena, NULL) : TP_E_TRUNCATED;
    if (s != TP_OK) fprintf(stderr, "tinypipe-board: %s: the image was refused\n", tp_status_name(s));
    else fprintf(stderr, "tinypipe-board: serving layers [%d, %d)\n", image.layer_from, image.layer_to);
    up_fd = in_fd >= 0 || tp_ring_mode() ? in_fd : master; /* a ring's USB port carries no protocol */
    server.link.port = &up_fd, server.link.write = port_write, server.link.now_ms = port_now,
    server.link.log = port_log;
    server.down.port = &down_fd, server.down.write = port_write, server.down.now_ms = port_now,
    server.down.log = port_log;
    if (line_baud > 0) server.link.departs_ms = server.down.departs_ms = port_departs;
    server.link.baud = server.down.baud = line_baud > 0 ? (uint32_t)line_baud : 0;
    server.pump = pump;
    server.pace = stage_us > 0 ? pace : NULL;
    server.now_us = port_now_us;
    /* CALIBRATE measures the host: no cache hooks (the page cache holds the image), no known clock rate */
    server.calib.name = "posix: the host (a simulated board)";
    server.calib.host = 1;
    server.calib.line_baud = line_baud > 0 ? (uint32_t)line_baud : 0;
    static int32_t sample_index[TP_SERVE_MAX_VOCAB_ROWS], sample_scratch[TP_SERVE_MAX_VOCAB_ROWS];
    if (s == TP_OK && image.config.vocab_size <= TP_SERVE_MAX_VOCAB_ROWS)
        server.sample_index = sample_index, server.sample_scratch = sample_scratch;
    /* a split classifier's slice: each stream's scaled logits, kept between the host's sampling rounds */
    if (s == TP_OK && image.has_classifier)
        server.slice_y = malloc((size_t)ready * (size_t)(image.vocab_to - image.vocab_from) * sizeof(float));
    uint16_t session = (uint16_t)(port_now(NULL) ^ (uint32_t)getpid() * 2654435761u);
    tp_server_init(&server, stages, ready, s == TP_OK ? &image : NULL, s, logits, (uint16_t)board, session);
    if (chain_mode == TP_CHAIN_NEXT) { /* the next board's UART: its PTY, opened like a serial device */
        down_fd = open(next_path, O_RDWR | O_NOCTTY);
        if (down_fd < 0 && !tp_ring_mode())
            return fprintf(stderr, "tinypipe-board: cannot open the next board's port %s\n", next_path), 1;
    }
    if (tp_ring_mode()) tp_ring_start(&server, (uint16_t)(session + 1), next_path != NULL); /* pty_ring.c */
    else if (chain_mode != TP_CHAIN_NONE) tp_server_chain(&server, chain_mode, (uint16_t)(session + 1));
    for (;;)
        if (pump(NULL, 5) != 0 || (tp_ring_mode() ? tp_ring_board_step(&server) : tp_server_step(&server)) != 0)
            return 0;
}

/* --in-pty / --out-pty: a chain's extra UARTs, each a PTY */
static int open_chain_out(void) {
    if (in_pty && tp_uart_open_pty(&in_fd, "PTY_IN") != 0) return -1;
    if (tp_ring_setup(in_fd, master) != 0) return -1;
    return chain_mode == TP_CHAIN_HOST ? tp_uart_open_pty(&down_fd, "PTY_OUT") : 0;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What the second-stage bootloader and the app do at reset: the partition table at 0x8000 (entries of 32
 * bytes, magic 0xAA50, then the 0xEBEB MD5 entry), the data partition of subtype 0x40, the image in it. */
static const uint8_t *find_model(const uint8_t *flash, size_t flash_size, size_t *size) {
    const uint8_t *table = flash + 0x8000;
    size_t n = 0;
    while (n < 95 && table[32 * n] == 0x50 && table[32 * n + 1] == 0xaa) n++;
    tp_md5 m;
    uint8_t digest[16];
    tp_md5_init(&m);
    tp_md5_update(&m, table, 32 * n);
    tp_md5_final(&m, digest);
    if (n == 0 || table[32 * n] != 0xeb || table[32 * n + 1] != 0xeb || memcmp(table + 32 * n + 16, digest, 16) != 0) {
        fprintf(stderr, "tinypipe-board: no valid partition table at 0x8000\n");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = table + 32 * i;
        uint32_t offset = le32(e + 4), psize = le32(e + 8);
        if (e[2] != 0x01 || e[3] != 0x40) continue;
        if ((size_t)offset + psize > flash_size) break;
        *size = tp_board_image_bytes(flash + offset, psize); /* the image's own size, within its partition */
        return flash + offset;
    }
    fprintf(stderr, "tinypipe-board: the partition table has no model partition (data, subtype 0x40)\n");
    return NULL;
}

int serve_pty(int argc, char **argv) {
    tp_pty_options o;
    int usage = tp_pty_options_parse(argc, argv, &o); /* pty_options.c */
    if (usage != 0) return usage;
    const char *path = o.image_path, *flash_path = o.flash_path;
    unsigned board = o.board;
    unsigned long flash_size = o.flash_size;
    tp_rom_options rom = o.rom;
    streams = o.streams, psram = o.psram, in_pty = o.in_pty, chain_mode = o.chain_mode, next_path = o.next_path;
    stage_us = o.stage_us, preload_us = o.preload_us, line_baud = o.line_baud;
    tp_uart_faults(o.ber, o.drop, o.seed);
    if (tp_stall_start(o.stall_ms) != 0) return fprintf(stderr, "tinypipe-board: cannot start the stall ticker\n"), 1;

    if (path) {
        int fd = open(path, O_RDONLY);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size == 0)
            return fprintf(stderr, "tinypipe-board: IMAGE: cannot open %s\n", path), 1;
        const uint8_t *bytes = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0); /* the "flash" */
        close(fd);
        if (bytes == MAP_FAILED) return fprintf(stderr, "tinypipe-board: IMAGE: cannot map %s\n", path), 1;
        if (tp_uart_open_pty(&master, "PTY") != 0 || open_chain_out() != 0)
            return fprintf(stderr, "tinypipe-board: cannot open a pseudo-terminal\n"), 1;
        return serve_image(bytes, (size_t)sb.st_size, board);
    }

    /* a virtual ESP32-S3: its flash is a file (created erased), its ROM bootloader answers first */
    if (!tp_rom_flash_size_ok(flash_size))
        return fprintf(stderr, "tinypipe-board: USAGE: --flash-size must be a power of two, 256 KiB to 256 MiB\n"), 2;
    int fd = open(flash_path, O_RDWR | O_CREAT, 0644);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) return fprintf(stderr, "tinypipe-board: FLASH: cannot open %s\n", flash_path), 1;
    /* a chip's flash never changes size: a file of another size is another chip's (or not a flash) */
    if (sb.st_size != 0 && (unsigned long)sb.st_size != flash_size)
        return fprintf(
                   stderr,
                   "tinypipe-board: FLASH: %s is %lld bytes but --flash-size is %lu: give --flash-size %lld, or remove the file for a new (erased) flash\n",
                   flash_path, (long long)sb.st_size, flash_size, (long long)sb.st_size),
               close(fd), 1;
    size_t had = (size_t)sb.st_size; /* bytes already there: all, or none (a new file) */
    if (had == 0 && ftruncate(fd, (off_t)flash_size) != 0)
        return fprintf(stderr, "tinypipe-board: FLASH: cannot size %s\n", flash_path), 1;
    uint8_t *flash = mmap(NULL, flash_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (flash == MAP_FAILED) return fprintf(stderr, "tinypipe-board: FLASH: cannot map %s\n", flash_path), 1;
    memset(flash + had, 0xff, flash_size - had); /* new flash comes erased */
    if (tp_uart_open_pty(&master, "PTY") != 0 || open_chain_out() != 0)
        return fprintf(stderr, "tinypipe-board: cannot open a pseudo-terminal\n"), 1;
    rom.idle_fd = in_fd;
    if (!o.boot_now && tp_rom_serve(master, flash, flash_size, &rom) != 0) return 0;
    fprintf(stderr, "tinypipe-board: reset: booting from flash\n");
    msync(flash, flash_size, MS_SYNC);
    size_t size = 0;
    const uint8_t *model = find_model(flash, flash_size, &size);
    return serve_image(model, size, board);
}
