/* Which UARTs this board's links use (menuconfig → tinypipe → Topology, docs/protocol.md §4.4, §4.5), as plain
 * integers: from IDF 5.2 UART_NUM_n is an enum, which #if cannot see. And the checks that no link shares
 * its UART with the console or with the other link. */
#pragma once
#include "sdkconfig.h"

#if CONFIG_TINYPIPE_CHAIN_ROLE_RING /* a standalone ring (docs/protocol.md §4.5): links as in a chain */
#define RING 1
#define RING_ALONE CONFIG_TINYPIPE_RING_ALONE /* a ring of one board: no protocol line at all */
#else
#define RING 0
#define RING_ALONE 0
#endif

#if RING_ALONE
#define CHAINED 0
#define UP_UART (-2) /* none (-1 is a console that is not a UART) */
#elif CONFIG_TINYPIPE_CHAIN_ROLE_NEXT || CONFIG_TINYPIPE_CHAIN_ROLE_LAST || RING
#define CHAINED 1
#define UP_UART CONFIG_TINYPIPE_UP_UART
#define DOWN_UART CONFIG_TINYPIPE_DOWN_UART
#else
#define CHAINED 0
#define UP_UART 0 /* star: the host on UART0, the DevKitC-1's USB-to-UART port */
#endif

/* ESP_CONSOLE_UART_NUM is always set (-1 when the console is not a UART): esp_system/Kconfig in IDF 5.x,
 * esp_stdio/Kconfig in 6.x. Without it this file would check nothing. */
#ifndef CONFIG_ESP_CONSOLE_UART_NUM
#error "sdkconfig.h did not define CONFIG_ESP_CONSOLE_UART_NUM: the console check below cannot run"
#endif

/* The console (boot log, ESP_LOG, printf) on a protocol UART would put text between the frames and take
 * their bandwidth: sdkconfig.defaults moves it to USB-Serial/JTAG, the DevKitC-1's other USB port. */
#if defined(CONFIG_ESP_CONSOLE_UART) && CONFIG_ESP_CONSOLE_UART_NUM == UP_UART
/* clang-format off */
#error "the console is on this board's upstream protocol UART: menuconfig → Channel for console output → USB Serial/JTAG Controller (sdkconfig.defaults sets it; delete a stale sdkconfig)"
/* clang-format on */
#endif
#if CHAINED && defined(CONFIG_ESP_CONSOLE_UART) && CONFIG_ESP_CONSOLE_UART_NUM == DOWN_UART
/* clang-format off */
#error "the console is on this board's downstream protocol UART: menuconfig → Channel for console output → USB Serial/JTAG Controller"
/* clang-format on */
#endif
#if CHAINED && UP_UART == DOWN_UART
#error "TINYPIPE_UP_UART and TINYPIPE_DOWN_UART must be two different UARTs"
#endif
