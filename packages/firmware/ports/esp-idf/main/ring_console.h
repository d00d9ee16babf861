/* A standalone ring on the ESP32-S3 (docs/protocol.md §4.5; menuconfig → tinypipe → Topology → ring): board 0
 * drives the stories on its console, USB-Serial/JTAG (stdout, and stdin read without waiting); the other
 * boards pass the census on. Story settings from Kconfig (TINYPIPE_RING_*). */
#pragma once
#include "serve.h"

/* After tp_server_init (and the down link's port fields, when the ring has more than one board). */
void ring_start(tp_server *s, uint16_t session);

/* One step of this board of the ring. */
void ring_step(tp_server *s);
