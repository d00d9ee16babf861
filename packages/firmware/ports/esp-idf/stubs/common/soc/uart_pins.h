/* Stub of ESP-IDF's soc/esp32s3/include/soc/uart_pins.h (component soc): UART0's IO MUX pins, which the
 * DevKitC-1 wires to its USB-to-UART bridge. */
#pragma once
#define U0TXD_GPIO_NUM 43
#define U0RXD_GPIO_NUM 44
