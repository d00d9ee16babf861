/* Stub of the sdkconfig.h an IDF build generates: check.sh passes each CONFIG_ value with -D instead. */
#pragma once
