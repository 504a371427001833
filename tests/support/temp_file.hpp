#pragma once
// A file under the temporary directory holding `text` (a configuration, a key), removed at the end of the test.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace switchboard::test {

class temp_file {
public:
    explicit temp_file(std::string const& text = {})
    {
        char name[] = "/tmp/switchboard-test-XXXXXX";
        int const fd = ::mkstemp(name);
        EXPECT_GE(fd, 0);
        ::close(fd);
        path_ = name;
        write(text);
    }
    ~temp_file() { std::remove(path_.c_str()); }
    temp_file(temp_file const&) = delete;
    temp_file& operator=(temp_file const&) = delete;

    std::string const& path() const { return path_; }
    /// Replaces the file's text.
    void write(std::string const& text) const { std::ofstream(path_, std::ios::trunc) << text; }

private:
    std::string path_;
};

}  // namespace switchboard::test
