#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "src/log.h"

/* Logging is the one piece of process-wide state: every thread may report,
 * and threading a logger through every device would buy nothing. */
static struct {
	pthread_mutex_t lock;
	enum log_level level;
	bool raw_tty;
	FILE *file;
} logger = { PTHREAD_MUTEX_INITIALIZER, LOG_WARN, false, NULL };

void log_set_level(enum log_level level) { logger.level = level; }
enum log_level log_get_level(void) { return logger.level; }
void log_set_raw_tty(bool raw) { logger.raw_tty = raw; }
void log_set_file(FILE *f) { logger.file = f; }

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	if (level > logger.level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';

	pthread_mutex_lock(&logger.lock);
	FILE *out = logger.file ? logger.file : stderr;
	if (logger.file) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		struct tm tm;
		localtime_r(&ts.tv_sec, &tm);
		fprintf(out, "%04d-%02d-%02d %02d:%02d:%02d.%03ld ", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	}
	fprintf(out, "vmdeck: %s%s%s%s", level == LOG_INFO ? "" : names[level],
		level == LOG_INFO ? "" : ": ", line, logger.raw_tty && !logger.file ? "\r\n" : "\n");
	fflush(out);
	pthread_mutex_unlock(&logger.lock);
}
