#!/usr/bin/env bash
# test_install.sh - `cmake --install` puts the headers under include/sockit/,
# the static and shared libraries and sockit.pc in place, and a program
# written against the installed copy (found through pkg-config) builds,
# links and runs.
set -euo pipefail
: "${SK_BUILD_DIR:?}" "${SK_SOURCE_DIR:?}"
cc=${SK_CC:-cc}
# A sanitized library needs its runtime in the program too.
san=()
case "${SK_SANITIZE:-OFF}" in ON | on | 1 | TRUE | true) san=(-fsanitize=address,undefined) ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$SK_BUILD_DIR" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib* | head -1)
for f in include/sockit/sockit.h include/sockit/conn.h bin/sockit; do
	[ -e "$tmp/prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
ls "$libdir"/libsockit.a "$libdir"/libsockit.so >/dev/null
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion sockit)" = "0.1.0" ] || { echo "pkg-config version wrong"; exit 1; }
cat >"$tmp/hello.c" <<'C'
#include <sockit/sockit.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
	sk_loop *loop;
	struct sk_addr a;
	char buf[SK_ADDR_STRLEN];
	if (sk_loop_new(&loop, NULL) < 0 || sk_addr_parse("[::1]:6667", &a) < 0)
		return 1;
	sk_addr_format(&a, buf, sizeof buf);
	printf("%s %s %s\n", sk_version(), buf, sk_strerror(SK_ECONNREFUSED));
	sk_loop_free(loop);
	return 0;
}
C
# shared library, through pkg-config
# shellcheck disable=SC2046
"$cc" "${san[@]}" -o "$tmp/hello" "$tmp/hello.c" $(pkg-config --cflags --libs sockit) -Wl,-rpath,"$libdir"
out=$("$tmp/hello")
[ "$out" = "0.1.0 [::1]:6667 connection refused" ] || { echo "unexpected output: $out"; exit 1; }
# static library, with the private dependencies pkg-config lists
# shellcheck disable=SC2046
"$cc" "${san[@]}" -o "$tmp/hello_static" "$tmp/hello.c" -I"$tmp/prefix/include" "$libdir/libsockit.a" \
	$(pkg-config --libs --static sockit | sed 's/-lsockit//')
[ "$("$tmp/hello_static")" = "$out" ]
echo "1 passed, 0 failed"
