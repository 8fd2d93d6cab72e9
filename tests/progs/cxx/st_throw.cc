// st_throw: a C++ program that dies of an uncaught exception, for stress's
// classifier (libstdc++ prints "terminate called after throwing an instance
// of 'X'" and, for a std::exception, "  what():  TEXT", then abort()s).
//
//   st_throw runtime TEXT   throw std::runtime_error(TEXT) from main
//   st_throw thread TEXT    throw std::logic_error(TEXT) from a worker thread
//   st_throw plain          throw an int (no what())
//   st_throw none           std::terminate() with no exception in flight
//   st_throw ok             exit 0
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

int main(int argc, char **argv)
{
	std::string mode = argc > 1 ? argv[1] : "runtime";
	std::string text = argc > 2 ? argv[2] : "boom";
	std::printf("st_throw: %s\n", mode.c_str());
	std::fflush(stdout);
	if (mode == "runtime")
		throw std::runtime_error(text);
	if (mode == "thread") {
		std::thread t([&] { throw std::logic_error(text); });
		t.join();
	}
	if (mode == "plain")
		throw 42;
	if (mode == "none")
		std::terminate();
	return 0;
}
