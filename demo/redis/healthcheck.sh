#!/bin/sh
# PONG from the Redis of this container. redis-server retitles itself "redis-server ADDR:PORT", so the
# port comes from PID 1's title when it has that form, else from $REDIS_PORT.
title=$(tr '\0' ' ' </proc/1/cmdline)
case "$title" in
  redis-server\ *:[0-9]*) port=${title#redis-server }; port=${port%% *}; port=${port##*:} ;;
  *) port=${REDIS_PORT:-6379} ;;
esac
[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]
