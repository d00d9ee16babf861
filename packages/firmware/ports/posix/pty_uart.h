/*
 * The simulated board's UARTs (ports/posix): pseudo-terminals in raw mode, the seeded damage of --ber /
 * --drop, and a transmit paced like the ESP-IDF port's UART (--line-baud): each frame is written to its PTY
 * when its last byte would have left the pin. Two lines: 0 the link in (the USB port or a chain's PTY_IN),
 * 1 the link down (a chain's next board or PTY_OUT).
 */
#ifndef TP_POSIX_PTY_UART_H
#define TP_POSIX_PTY_UART_H

#include <stddef.h>
#include <stdint.h>

/* A pseudo-terminal in raw mode: its master in *fd, its path printed after `label` on stdout. 0, or -1. */
int tp_uart_open_pty(int *fd, const char *label);

/* Sets the damage tp_uart_damage does: `ber` a bit error rate, `drop` the chance a byte is lost, `seed`
 * the generator's (the same generator as the TS test line). */
void tp_uart_faults(double ber, double drop, uint32_t seed);

/* Applies the faults to buf in place; returns the bytes that survive. */
size_t tp_uart_damage(uint8_t *buf, size_t n);

/* The monotonic clock in µs. */
long long tp_uart_now_us(void);

/* Sends n bytes on `line` (0 or 1) to the PTY *fd: at once when baud <= 0, else queued in the line's 8 KB
 * transmit ring and written when due at `baud` (8N1); a full ring blocks, as uart_write_bytes does. A
 * write that fails (the peer is gone) loses the frame: ARQ or a new HELLO deal with it. */
void tp_uart_send(int line, int *fd, const uint8_t *bytes, size_t n, long baud);

/* Writes out every queued frame due by `now` (µs). */
void tp_uart_flush(long long now);

/* The earliest time a queued frame is due, or `limit` when none is earlier. */
long long tp_uart_next_due(long long limit);

/* Sleeps until t (µs), writing out every frame that comes due meanwhile. */
void tp_uart_sleep_until_us(long long t);

/* --line-baud: when the frame just queued on `line` leaves the pin, in ms of the monotonic clock. */
uint32_t tp_uart_departs_ms(int line);

#endif
