#!/usr/bin/env bash
# Make sure the services the FoxDB test suite talks to are up on 127.0.0.1:
#
#   PostgreSQL 15  127.0.0.1:5432   trust auth, roles postgres + root (superuser), database test
#   MariaDB 10.11  127.0.0.1:3306   root with an empty password over TCP, database test
#   Redis 7        127.0.0.1:6379   nothing kept on disk
#   Mongo wire     127.0.0.1:27017  nx-27017 (PyPI; MongoDB wire protocol over SQLite, in memory),
#                                   skipped when FOX_TEST_MONGO_URL is set (a real mongod is used)
#
# Works on a machine where they already run (then it only checks them, in well
# under a second) and on a fresh Debian 12 where we are root and reach only the
# package registries: missing servers come from apt (one `apt-get update`, only
# when something must be installed), nx-27017 from PyPI into its own venv.
# Idempotent; safe to run concurrently (runs are serialised with flock).
# Prints one `services: NAME ok (...)` line per service; exits non-zero with a
# message when a service cannot be made ready.
#
# Env: FOX_TEST_MONGO_URL  skip the mongo-wire server
#      FOX_SERVICES_WAIT   seconds to wait for each port (default 30)
set -euo pipefail

LOCK_FILE=/tmp/foxdb-e2e-services.lock
# Serialise concurrent runs. `flock -o` keeps the lock in flock itself, so the
# daemons started below do not inherit (and hold) it.
if [ -z "${FOXDB_SERVICES_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
    export FOXDB_SERVICES_LOCKED=1
    exec flock -o -w 900 "$LOCK_FILE" bash "${BASH_SOURCE[0]}" "$@"
fi
unset FOXDB_SERVICES_LOCKED

WAIT_SECS=${FOX_SERVICES_WAIT:-30}
LOG_DIR=/var/log/foxdb
NX_VERSION=0.8.1
# Pinned with their dependencies so every machine runs the same server.
NX_PIP_SPECS=("nx-27017==$NX_VERSION" "neosqlite==1.17.2" "pymongo==4.20.1" "dnspython==2.9.2")
NX_VENV=/opt/foxdb/nx-27017-venv
NX_PID_FILE=/run/foxdb-nx-27017.pid
NX_LOG="$LOG_DIR/nx-27017.log"

say() { echo "services: $*"; }
die() {
    echo "services: ERROR: $*" >&2
    exit 1
}
# die_log MSG FILE: fail, showing the end of a log file
die_log() {
    if [ -f "$2" ]; then
        echo "services: --- last lines of $2 ---" >&2
        tail -n 20 "$2" | sed -e '$a\' >&2 || true
    fi
    die "$1"
}
have() { command -v "$1" >/dev/null 2>&1; }

# --- ports ------------------------------------------------------------------
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }
wait_port() {
    local i
    for ((i = 0; i < WAIT_SECS * 5; i++)); do
        port_open "$1" && return 0
        sleep 0.2
    done
    return 1
}

# --- apt --------------------------------------------------------------------
apt_install() {
    have apt-get || die "apt-get not found; install by hand: $*"
    mkdir -p "$LOG_DIR"
    say "installing $* (apt-get, log $LOG_DIR/apt.log)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >>"$LOG_DIR/apt.log" 2>&1 || die_log "apt-get update failed" "$LOG_DIR/apt.log"
    apt-get install -y "$@" >>"$LOG_DIR/apt.log" 2>&1 || die_log "apt-get install $* failed" "$LOG_DIR/apt.log"
}

# --- readiness checks (the fast path) ---------------------------------------
pg_ready() {
    port_open 5432 && have psql || return 1
    [ "$(PGCONNECT_TIMEOUT=3 psql -w -X -A -t -q -h 127.0.0.1 -p 5432 -U postgres -d test \
        -c "select count(*) from pg_roles where rolname = 'root' and rolsuper" 2>/dev/null)" = 1 ]
}
# maria_sql ARGS...: the mariadb client over TCP as root with no password, ignoring option files
maria_tcp() { env -u MYSQL_PWD mariadb --no-defaults --connect-timeout=3 -h 127.0.0.1 -P 3306 -u root "$@"; }
maria_ready() {
    port_open 3306 && have mariadb || return 1
    maria_tcp test -e 'select 1' >/dev/null 2>&1
}
redis_ready() {
    port_open 6379 && have redis-cli || return 1
    [ "$(timeout 3 redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]
}
# MongoDB OP_MSG {hello: 1, $db: "admin"} (52 bytes), built by hand so that no
# client is needed; the reply must be an OP_MSG (2013) naming maxWireVersion.
HELLO_MSG='\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00'
HELLO_MSG+='\x00\x00\x00\x00\x00'
HELLO_MSG+='\x1f\x00\x00\x00\x10hello\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00'
mongo_hello() {
    local reply
    reply=$(timeout 3 bash -c '
        exec 3<>/dev/tcp/127.0.0.1/27017 || exit 1
        printf "%b" "$1" >&3
        set -- $(head -c 16 <&3 | od -An -tu4 -v)  # length, requestID, responseTo, opCode
        [ "${4:-0}" = 2013 ] && [ "${1:-0}" -gt 16 ] && [ "$1" -lt 1048576 ] || exit 1
        head -c $(($1 - 16)) <&3 | tr -d "\0"
    ' _ "$HELLO_MSG" 2>/dev/null) || return 1
    [[ $reply == *maxWireVersion* ]]
}

nx_installed() { [ -x "$NX_VENV/bin/nx-27017" ] && [ -f "$NX_VENV/.foxdb-installed-$NX_VERSION" ]; }
# A python3 that can make a venv with pip (Debian's first: it does not change under us).
venv_python() {
    local py
    for py in /usr/bin/python3 "$(command -v python3 || true)"; do
        [ -n "$py" ] && [ -x "$py" ] || continue
        "$py" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1 || continue
        echo "$py"
        return 0
    done
    return 1
}

# --- PostgreSQL -------------------------------------------------------------
ensure_postgres() {
    local done_="" ver hba pg_log
    if [ "$PG_OK" = 1 ]; then
        say "postgresql ok (already running)"
        return
    fi
    [ "$PG_INSTALLED" = 1 ] && done_="installed, "
    have pg_ctlcluster || die "postgresql: pg_ctlcluster not found (package postgresql-common)"
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$ver" ] || [ ! -f "/etc/postgresql/$ver/main/postgresql.conf" ]; then
        ver=${ver:-$(ls /usr/lib/postgresql | sort -V | tail -n 1)}
        mkdir -p "$LOG_DIR"
        pg_createcluster "$ver" main >>"$LOG_DIR/postgresql-setup.log" 2>&1 ||
            die_log "postgresql: pg_createcluster $ver main failed" "$LOG_DIR/postgresql-setup.log"
        done_+="cluster created, "
    fi
    pg_log=/var/log/postgresql/postgresql-$ver-main.log
    # Debian gives a new cluster the next free port when 5432 was taken at install time.
    local port
    port=$(pg_conftool -s "$ver" main show port 2>/dev/null || echo 5432)
    if [ "$port" != 5432 ]; then
        pg_conftool "$ver" main set port 5432 || die "postgresql: could not set port 5432 in cluster $ver/main"
        if pg_ctlcluster "$ver" main status >/dev/null 2>&1; then
            pg_ctlcluster --skip-systemctl-redirect "$ver" main stop ||
                die_log "postgresql: could not stop cluster $ver/main (running on port $port)" "$pg_log"
        fi
        done_+="port $port -> 5432, "
    fi
    if ! pg_ctlcluster "$ver" main status >/dev/null 2>&1; then
        pg_ctlcluster --skip-systemctl-redirect "$ver" main start ||
            die_log "postgresql: could not start cluster $ver/main" "$pg_log"
        done_+="started, "
    fi
    wait_port 5432 || die_log "postgresql: nothing listens on 127.0.0.1:5432 after ${WAIT_SECS}s" "$pg_log"

    # Trust auth for local TCP and socket connections.
    if ! PGCONNECT_TIMEOUT=3 psql -w -X -q -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
        hba=/etc/postgresql/$ver/main/pg_hba.conf
        if ! grep -q '^# foxdb-e2e: trust' "$hba"; then
            {
                echo '# foxdb-e2e: trust local connections (added by e2e/services.sh)'
                echo 'local   all   all                  trust'
                echo 'host    all   all   127.0.0.1/32   trust'
                echo 'host    all   all   ::1/128        trust'
                cat "$hba"
            } >"$hba.foxdb.tmp"
            cat "$hba.foxdb.tmp" >"$hba" # in place: keeps owner and mode
            rm -f "$hba.foxdb.tmp"
        fi
        pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >/dev/null ||
            die "postgresql: reload after editing $hba failed"
        local i ok=0
        for ((i = 0; i < 50; i++)); do
            if PGCONNECT_TIMEOUT=3 psql -w -X -q -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
                ok=1
                break
            fi
            sleep 0.1
        done
        [ "$ok" = 1 ] || die "postgresql: user postgres still cannot log in over 127.0.0.1 without a password (check $hba)"
        done_+="trust auth set, "
    fi

    PGCONNECT_TIMEOUT=3 psql -w -X -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL' ||
SELECT 'CREATE ROLE root SUPERUSER LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'root')\gexec
SELECT 'ALTER ROLE root SUPERUSER LOGIN' WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'root' AND NOT (rolsuper AND rolcanlogin))\gexec
SELECT 'CREATE DATABASE test' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'test')\gexec
SELECT 'CREATE DATABASE root OWNER root' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'root')\gexec
SQL
        die "postgresql: creating role root / database test failed"

    PGCONNECT_TIMEOUT=3 psql -w -X -q -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null ||
        die "postgresql: psql -h 127.0.0.1 -U postgres -d test -c 'select 1' failed"
    pg_ready || die "postgresql: role root is not a superuser"
    done_=${done_%, }
    say "postgresql ok (${done_:-checked})"
}

# --- MariaDB ----------------------------------------------------------------
ensure_mariadb() {
    local done_="" log="$LOG_DIR/mariadb.log"
    if [ "$MARIA_OK" = 1 ]; then
        say "mariadb ok (already running)"
        return
    fi
    [ "$MARIA_INSTALLED" = 1 ] && done_="installed, "
    [ -x /usr/sbin/mariadbd ] || die "mariadb: /usr/sbin/mariadbd not found"
    mkdir -p "$LOG_DIR"
    install -d -o mysql -g mysql -m 0755 /run/mysqld
    [ -d /var/log/mysql ] || install -d -o mysql -g adm -m 2750 /var/log/mysql
    if [ ! -d /var/lib/mysql/mysql ]; then
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql >>"$log" 2>&1 ||
            die_log "mariadb: mariadb-install-db failed" "$log"
        done_+="data dir initialised, "
    fi
    if ! port_open 3306; then
        # --user=mysql: Debian's config does not always name the user, and mariadbd refuses to run as root.
        # --pidfile: only a mariadbd named by this machine's pid file counts as already running.
        start-stop-daemon --start --oknodo --background --output "$log" \
            --pidfile /run/mysqld/mysqld.pid --exec /usr/sbin/mariadbd -- --user=mysql ||
            die_log "mariadb: start-stop-daemon failed" "$log"
        done_+="started, "
    fi
    wait_port 3306 || die_log "mariadb: nothing listens on 127.0.0.1:3306 after ${WAIT_SECS}s" "$log"

    # root with an empty password over TCP (mysql_native_password); OS root keeps socket login.
    if ! maria_tcp -e 'select 1' >/dev/null 2>&1; then
        env -u MYSQL_PWD mariadb --protocol=socket -u root >/dev/null <<'SQL' ||
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'root'@'::1' IDENTIFIED BY '';
ALTER USER 'root'@'::1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
FLUSH PRIVILEGES;
SQL
            die "mariadb: root cannot log in over TCP with an empty password, and fixing it over the socket failed"
        maria_tcp -e 'select 1' >/dev/null 2>&1 ||
            die "mariadb: root still cannot log in over 127.0.0.1 with an empty password"
        done_+="root auth set, "
    fi
    maria_tcp -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null || die "mariadb: CREATE DATABASE test failed"
    maria_tcp test -e 'select 1' >/dev/null ||
        die "mariadb: mariadb -h 127.0.0.1 -u root test -e 'select 1' failed"
    done_=${done_%, }
    say "mariadb ok (${done_:-checked})"
}

# --- Redis ------------------------------------------------------------------
ensure_redis() {
    local done_="" log=/var/log/redis/ci.log
    if [ "$REDIS_OK" = 1 ]; then
        say "redis ok (already running)"
        return
    fi
    [ "$REDIS_INSTALLED" = 1 ] && done_="installed, "
    if redis_ready; then
        # Started by the package's own init script: keep nothing on disk, as below.
        redis-cli -h 127.0.0.1 config set save "" >/dev/null 2>&1 || true
        redis-cli -h 127.0.0.1 config set appendonly no >/dev/null 2>&1 || true
        say "redis ok (${done_}started by its package)"
        return
    fi
    port_open 6379 && die "redis: 127.0.0.1:6379 is in use but does not answer PING"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile "$log" >/dev/null || die_log "redis: redis-server failed to start" "$log"
    wait_port 6379 || die_log "redis: nothing listens on 127.0.0.1:6379 after ${WAIT_SECS}s" "$log"
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(timeout 3 redis-cli -h 127.0.0.1 ping 2>/dev/null)" = PONG ] && break
        sleep 0.1
    done
    [ "$(timeout 3 redis-cli -h 127.0.0.1 ping 2>/dev/null)" = PONG ] || die_log "redis: redis-cli ping failed" "$log"
    say "redis ok (${done_}started)"
}

# --- Mongo wire (nx-27017) --------------------------------------------------
install_nx() {
    local py
    py=$(venv_python) || die "mongo-wire: no python3 (>= 3.10) with venv/ensurepip"
    mkdir -p "$LOG_DIR" "$(dirname "$NX_VENV")"
    rm -rf "$NX_VENV"
    say "installing nx-27017 $NX_VERSION into $NX_VENV (pip, log $LOG_DIR/pip.log)"
    "$py" -m venv "$NX_VENV" >>"$LOG_DIR/pip.log" 2>&1 || die_log "mongo-wire: $py -m venv $NX_VENV failed" "$LOG_DIR/pip.log"
    "$NX_VENV/bin/python" -m pip install --disable-pip-version-check --no-input "${NX_PIP_SPECS[@]}" \
        >>"$LOG_DIR/pip.log" 2>&1 || die_log "mongo-wire: pip install ${NX_PIP_SPECS[*]} failed" "$LOG_DIR/pip.log"
    [ -x "$NX_VENV/bin/nx-27017" ] || die "mongo-wire: $NX_VENV/bin/nx-27017 missing after pip install"
    touch "$NX_VENV/.foxdb-installed-$NX_VERSION"
}

ensure_mongo() {
    local done_="" pid=""
    if [ -n "${FOX_TEST_MONGO_URL:-}" ]; then
        say "mongo-wire skipped (FOX_TEST_MONGO_URL is set)"
        return
    fi
    if port_open 27017; then
        mongo_hello || die "mongo-wire: 127.0.0.1:27017 is in use but does not answer a MongoDB hello"
        say "mongo-wire ok (already running)"
        return
    fi
    if ! nx_installed; then
        install_nx
        done_="installed, "
    fi
    # nx-27017 refuses to start while its pid file names a live process.
    if [ -f "$NX_PID_FILE" ]; then
        pid=$(cat "$NX_PID_FILE" 2>/dev/null || true)
        if [[ $pid =~ ^[0-9]+$ ]] && [ -d "/proc/$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q nx-27017; then
            : # an nx-27017 is starting (or hung): wait for it below
        else
            rm -f "$NX_PID_FILE"
            pid=""
        fi
    fi
    if [ -z "$pid" ]; then
        mkdir -p "$LOG_DIR"
        # Logging goes to stderr (-> $NX_LOG); --log-file would only duplicate it.
        (cd / && exec setsid nohup "$NX_VENV/bin/nx-27017" --host 127.0.0.1 -p 27017 --db memory \
            --log-file /dev/null --pid-file "$NX_PID_FILE" </dev/null >>"$NX_LOG" 2>&1) &
        done_+="started, "
    fi
    wait_port 27017 || die_log "mongo-wire: nx-27017 does not listen on 127.0.0.1:27017 after ${WAIT_SECS}s" "$NX_LOG"
    mongo_hello || die_log "mongo-wire: nx-27017 does not answer a MongoDB hello" "$NX_LOG"
    done_=${done_%, }
    say "mongo-wire ok (nx-27017 ${done_:-checked})"
}

# --- main -------------------------------------------------------------------
PG_OK=0 MARIA_OK=0 REDIS_OK=0
PG_INSTALLED=0 MARIA_INSTALLED=0 REDIS_INSTALLED=0
pg_ready && PG_OK=1
maria_ready && MARIA_OK=1
redis_ready && REDIS_OK=1

# One apt transaction for everything missing.
pkgs=()
if [ "$PG_OK" = 0 ] && ! { have pg_ctlcluster && have psql && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }; then
    pkgs+=(postgresql postgresql-client)
    PG_INSTALLED=1
fi
if [ "$MARIA_OK" = 0 ] && ! { [ -x /usr/sbin/mariadbd ] && have mariadb; }; then
    pkgs+=(mariadb-server mariadb-client)
    MARIA_INSTALLED=1
fi
if [ "$REDIS_OK" = 0 ] && ! { have redis-server && have redis-cli; }; then
    pkgs+=(redis-server redis-tools)
    REDIS_INSTALLED=1
fi
if [ -z "${FOX_TEST_MONGO_URL:-}" ] && ! nx_installed && ! port_open 27017 && ! venv_python >/dev/null; then
    pkgs+=(python3 python3-venv)
fi
# Headless Chromium for the real-time example page's test (operator/tests/realtime_example.rs).
if ! have chromium && ! have chromium-browser; then
    pkgs+=(chromium)
fi
# The other tools the docs' shell examples call (operator/tests/docs_commands.rs).
have sqlite3 || pkgs+=(sqlite3)
have openssl || pkgs+=(openssl)
if [ "${#pkgs[@]}" -gt 0 ]; then
    apt_install "${pkgs[@]}"
fi

ensure_postgres
ensure_mariadb
ensure_redis
ensure_mongo
