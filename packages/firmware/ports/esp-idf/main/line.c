/* The UART lines (line.h). */
#include "line.h"

void line_open(line_t *l, uart_port_t uart) {
    uart_config_t cfg = {
        .baud_rate = CONFIG_TINYPIPE_UART_BAUD,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    l->uart = uart;
    /* 8 KB rings: the board computes while the driver sends (the emulated board does the same) */
    uart_driver_install(uart, 8192, 8192, 0, NULL, 0);
    uart_param_config(uart, &cfg);
    /* UART0 keeps its pins (USB bridge); UART1/UART2 get the Kconfig's. */
    if (uart == UART_NUM_1)
        uart_set_pin(uart, CONFIG_TINYPIPE_UART1_TX_PIN, CONFIG_TINYPIPE_UART1_RX_PIN, UART_PIN_NO_CHANGE, UART_PIN_NO_CHANGE);
    else if (uart == UART_NUM_2)
        uart_set_pin(uart, CONFIG_TINYPIPE_UART2_TX_PIN, CONFIG_TINYPIPE_UART2_RX_PIN, UART_PIN_NO_CHANGE, UART_PIN_NO_CHANGE);
}

void line_write(void *port, const uint8_t *bytes, size_t n) {
    uart_write_bytes(((line_t *)port)->uart, bytes, n);
}

int line_read(line_t *l, uint8_t *buf, size_t cap, int wait_ms) {
    return uart_read_bytes(l->uart, buf, (uint32_t)cap, (TickType_t)(wait_ms / portTICK_PERIOD_MS));
}
