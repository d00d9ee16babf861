/* Stub of ESP-IDF's driver/uart.h with hal/uart_types.h: the declarations line.c uses, in the shape of the
 * version esp_idf_version.h stands for. The component that provides it differs by version (README). */
#pragma once
#include "esp_err.h"
#include "esp_idf_version.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 2, 0)
/* from 5.2 an enum: UART_NUM_n is no longer a macro, so #if cannot compare with it */
typedef enum { UART_NUM_0, UART_NUM_1, UART_NUM_2, UART_NUM_MAX } uart_port_t;
#else
typedef int uart_port_t;
#define UART_NUM_0 (0)
#define UART_NUM_1 (1)
#define UART_NUM_2 (2)
#define UART_NUM_MAX (3)
#endif
#define UART_PIN_NO_CHANGE (-1)

typedef enum { UART_DATA_8_BITS = 0x3 } uart_word_length_t;
typedef enum { UART_PARITY_DISABLE = 0x0 } uart_parity_t;
typedef enum { UART_STOP_BITS_1 = 0x1 } uart_stop_bits_t;
typedef enum { UART_HW_FLOWCTRL_DISABLE = 0x0 } uart_hw_flowcontrol_t;
typedef enum { UART_SCLK_DEFAULT } uart_sclk_t;
typedef struct {
    int baud_rate;
    uart_word_length_t data_bits;
    uart_parity_t parity;
    uart_stop_bits_t stop_bits;
    uart_hw_flowcontrol_t flow_ctrl;
    uint8_t rx_flow_ctrl_thresh;
    uart_sclk_t source_clk;
} uart_config_t;

typedef enum {
    UART_DATA,
    UART_BREAK,
    UART_BUFFER_FULL,
    UART_FIFO_OVF,
    UART_FRAME_ERR,
    UART_PARITY_ERR,
    UART_DATA_BREAK,
    UART_PATTERN_DET,
    UART_EVENT_MAX,
} uart_event_type_t;
typedef struct {
    uart_event_type_t type;
    size_t size;
    bool timeout_flag;
} uart_event_t;

esp_err_t uart_driver_install(uart_port_t uart_num, int rx_buffer_size, int tx_buffer_size, int queue_size,
                              QueueHandle_t *uart_queue, int intr_alloc_flags);
esp_err_t uart_param_config(uart_port_t uart_num, const uart_config_t *uart_config);
int uart_write_bytes(uart_port_t uart_num, const void *src, size_t size);
esp_err_t uart_get_buffered_data_len(uart_port_t uart_num, size_t *size);
#if ESP_IDF_VERSION_MAJOR >= 6
int uart_read_bytes(uart_port_t uart_num, void *buf, uint32_t length, uint32_t ticks_to_wait);
/* 6.x: a macro taking 5 or 7 arguments (DTR/DSR pins); the 5-argument form is what the app uses */
esp_err_t _uart_set_pin6(uart_port_t uart_num, int tx_io_num, int rx_io_num, int rts_io_num, int cts_io_num,
                         int dtr_io_num, int dsr_io_num);
#define uart_set_pin(uart_num, tx, rx, rts, cts) _uart_set_pin6(uart_num, tx, rx, rts, cts, -1, -1)
#else
int uart_read_bytes(uart_port_t uart_num, void *buf, uint32_t length, TickType_t ticks_to_wait);
esp_err_t uart_set_pin(uart_port_t uart_num, int tx_io_num, int rx_io_num, int rts_io_num, int cts_io_num);
#endif
