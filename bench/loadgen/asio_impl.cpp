// Asio's implementation, compiled once for the load generator (BOOST_ASIO_SEPARATE_COMPILATION), so the
// other files of the tool stay quick to build.
#include <boost/asio/impl/src.hpp>
