/* Generates golden.txt for the checksum package tests. Written for gorsync;
 * it evaluates rsync's weak checksum by its C definition (signed chars,
 * CHAR_OFFSET 0) and the strong sums with libcrypto and libxxhash.
 *
 * cc -O2 -o /tmp/gen gen_golden.c -lcrypto /lib/x86_64-linux-gnu/libxxhash.so.0
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <openssl/md4.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

typedef struct { unsigned long long low64, high64; } XXH128_hash_t;
unsigned long long XXH64(const void *, size_t, unsigned long long);
unsigned long long XXH3_64bits_withSeed(const void *, size_t, unsigned long long);
XXH128_hash_t XXH3_128bits_withSeed(const void *, size_t, unsigned long long);

static uint32_t weak(const char *b, int len)
{
	const signed char *buf = (const signed char *)b;
	uint32_t s1 = 0, s2 = 0;
	int i;
	for (i = 0; i < len; i++) {
		s1 += buf[i];
		s2 += s1;
	}
	return (s1 & 0xffff) + (s2 << 16);
}

static void fill(unsigned char *p, int len, int pattern)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int i;
	for (i = 0; i < len; i++) {
		switch (pattern) {
		case 0:
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			p[i] = (unsigned char)(x >> 56);
			break;
		case 1: p[i] = 0xff; break;
		case 2: p[i] = 0x80; break;
		case 3: p[i] = 0x7f; break;
		}
	}
}

static void hex(const unsigned char *p, int n)
{
	int i;
	putchar(' ');
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static void le64(unsigned char *p, unsigned long long v)
{
	int i;
	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

int main(void)
{
	static const int lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33,
		55, 56, 63, 64, 65, 100, 699, 700, 701, 1024, 4096, 65539 };
	static const int seeds[] = { 0, 1, -1, 0x12345678 };
	static unsigned char buf[65539 + 4];
	unsigned char d[64];
	int li, pat, si;

	for (pat = 0; pat < 4; pat++)
	for (li = 0; li < (int)(sizeof lens / sizeof lens[0]); li++)
	for (si = 0; si < 4; si++) {
		int len = lens[li], seed = seeds[si], n = len;
		unsigned char sb[4];
		XXH128_hash_t h;
		MD5_CTX m5;
		SHA_CTX s;

		fill(buf, len, pat);
		sb[0] = seed; sb[1] = seed >> 8; sb[2] = seed >> 16; sb[3] = seed >> 24;
		printf("%d %d %d %08x", pat, len, seed, weak((char *)buf, len));
		/* md4 block sum: seed appended after the data when non-zero */
		if (seed) {
			memcpy(buf + len, sb, 4);
			n += 4;
		}
		MD4(buf, n, d); hex(d, 16);
		/* md5 block sum, seed after (old order) and before (proper order) */
		MD5(buf, n, d); hex(d, 16);
		MD5_Init(&m5);
		if (seed)
			MD5_Update(&m5, sb, 4);
		MD5_Update(&m5, buf, len);
		MD5_Final(d, &m5); hex(d, 16);
		/* sha1 block sum: seed before */
		SHA1_Init(&s);
		if (seed)
			SHA1_Update(&s, sb, 4);
		SHA1_Update(&s, buf, len);
		SHA1_Final(d, &s); hex(d, 20);
		le64(d, XXH64(buf, len, seed)); hex(d, 8);
		le64(d, XXH3_64bits_withSeed(buf, len, seed)); hex(d, 8);
		h = XXH3_128bits_withSeed(buf, len, seed);
		le64(d, h.low64); le64(d + 8, h.high64); hex(d, 16);
		/* whole-file md4 for protocol 27-29: seed (always) then data */
		memmove(buf + 4, buf, len);
		memcpy(buf, sb, 4);
		MD4(buf, len + 4, d); hex(d, 16);
		putchar('\n');
	}
	return 0;
}
