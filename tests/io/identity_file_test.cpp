#include "io/identity_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace srudp::io {

using crypto::KeyPair;
using crypto::PublicKey;
namespace {

// Each test gets a fresh private directory, removed afterwards.
class IdentityFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "srudp-identity-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/node.key";
    SeededRandom rng(21);
    identity_ = KeyPair::generate(rng);
  }
  void TearDown() override {
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  std::string read_text() const {
    std::ifstream in(path_);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }
  void write_text(const std::string& text) const {
    std::ofstream out(path_, std::ios::trunc);
    out << text;
  }

  std::string dir_;
  std::string path_;
  KeyPair identity_;
};

TEST_F(IdentityFileTest, RoundTrip) {
  ASSERT_FALSE(save_identity(path_, identity_));
  auto loaded = load_identity(path_);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_TRUE(loaded->secret == identity_.secret);
  EXPECT_EQ(loaded->public_key, identity_.public_key);
  const std::string text = read_text();
  EXPECT_EQ(text.rfind("srudp-identity-v1\nsecret ", 0), 0u);
  EXPECT_NE(text.find("public " + to_hex(identity_.public_key) + "\n"), std::string::npos);
}

TEST_F(IdentityFileTest, FileIsCreatedWithMode0600) {
  const mode_t old_umask = ::umask(0);  // even with a permissive umask
  const std::error_code ec = save_identity(path_, identity_);
  ::umask(old_umask);
  ASSERT_FALSE(ec) << ec.message();
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(IdentityFileTest, NeverOverwritesAnExistingFile) {
  ASSERT_FALSE(save_identity(path_, identity_));
  SeededRandom rng(22);
  const KeyPair other = KeyPair::generate(rng);
  EXPECT_EQ(save_identity(path_, other), std::error_code(EEXIST, std::system_category()));
  auto loaded = load_identity(path_);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->public_key, identity_.public_key);
}

TEST_F(IdentityFileTest, RefusesGroupOrWorldReadableFiles) {
  ASSERT_FALSE(save_identity(path_, identity_));
  for (const mode_t mode : {mode_t{0644}, mode_t{0640}, mode_t{0604}, mode_t{0660}, mode_t{0602}}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    auto loaded = load_identity(path_);
    ASSERT_FALSE(loaded) << std::oct << mode;
    EXPECT_EQ(loaded.error(), errc::insecure_key_file);
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0400), 0);  // owner-only read is fine
  EXPECT_TRUE(load_identity(path_));
}

TEST_F(IdentityFileTest, CorruptedFilesAreMalformed) {
  ASSERT_FALSE(save_identity(path_, identity_));
  const std::string good = read_text();
  const auto secret_at = good.find("secret ") + 7;
  const auto public_at = good.find("public ") + 7;
  std::string flipped_public = good;
  flipped_public[public_at] = flipped_public[public_at] == 'a' ? 'b' : 'a';
  std::string flipped_secret = good;
  flipped_secret[secret_at] = flipped_secret[secret_at] == 'a' ? 'b' : 'a';
  std::string not_hex = good;
  not_hex[secret_at] = 'g';
  const std::string cases[] = {
      flipped_public,                           // public key no longer matches the secret
      flipped_secret,                           // likewise
      not_hex,                                  // not hex
      "srudp-identity-v2" + good.substr(17),    // unknown version
      good.substr(0, good.size() - 10),         // truncated
      good + "extra\n",                         // trailing data
      "",                                       // empty
      std::string(5000, 'x'),                   // too long
  };
  for (const std::string& text : cases) {
    write_text(text);
    ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
    auto loaded = load_identity(path_);
    ASSERT_FALSE(loaded) << text;
    EXPECT_EQ(loaded.error(), make_error_code(errc::malformed)) << text;
  }
  write_text(good.substr(0, good.size() - 1));  // no final newline: still accepted
  EXPECT_TRUE(load_identity(path_));
}

TEST_F(IdentityFileTest, MissingFileReportsTheOsError) {
  auto loaded = load_identity(dir_ + "/absent.key");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error(), std::error_code(ENOENT, std::system_category()));
}

TEST(PublicKeyHexTest, RoundTripAndStrictParsing) {
  SeededRandom rng(23);
  const KeyPair pair = KeyPair::generate(rng);
  const std::string hex = to_hex(pair.public_key);
  EXPECT_EQ(hex.size(), 64u);
  auto parsed = public_key_from_hex(hex);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, pair.public_key);

  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(public_key_from_hex(upper));
  const auto invalid = make_error_code(errc::invalid_argument);
  EXPECT_EQ(public_key_from_hex(hex.substr(0, 62)).error(), invalid);
  EXPECT_EQ(public_key_from_hex(hex + "00").error(), invalid);
  EXPECT_EQ(public_key_from_hex("z" + hex.substr(1)).error(), invalid);
  EXPECT_EQ(public_key_from_hex(" " + hex.substr(1)).error(), invalid);
  EXPECT_EQ(public_key_from_hex("").error(), invalid);
}

}  // namespace
}  // namespace srudp::io
