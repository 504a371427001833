#pragma once
// A new epoch name: random, so that a topic's history started again (a restart, a broker that lost its data)
// never reuses the name of one that came before.

#include <random>
#include <string>

namespace switchboard::detail {

std::string random_epoch(std::mt19937_64& random);

}  // namespace switchboard::detail
