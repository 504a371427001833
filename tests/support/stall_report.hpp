#pragma once
// What a test prints when a connection stops moving: both ends of the TCP connection as the kernel holds them
// (/proc/net/tcp: state, bytes queued to send and unread, timers; the client's tcp_info: window probes and
// backoff), and what each of the server's threads is doing (/proc/<pid>/task/*: state, wait channel, system
// call). A full receive queue on the server's end says the server stopped reading; a thread in a system call
// that is not the loop's epoll_wait says the loop is blocked. Linux only.

#include <sys/types.h>

#include <string>

namespace switchboard::test {

/// Both ends of the connection whose test end is `client_socket`.
std::string connection_report(int client_socket);

/// Each thread of the process `pid`.
std::string threads_report(pid_t pid);

}  // namespace switchboard::test
