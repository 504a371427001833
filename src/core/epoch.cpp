#include "core/epoch.hpp"

namespace switchboard::detail {

std::string random_epoch(std::mt19937_64& random)
{
    static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string out(8, '0');
    for (auto& c : out)
        c = alphabet[random() % (sizeof(alphabet) - 1)];
    return out;
}

}  // namespace switchboard::detail
