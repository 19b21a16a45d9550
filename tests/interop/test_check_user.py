"""ehlod -t refuses a config whose user does not exist when it runs as
root (the workers could not switch to it), naming the file and the user.
"""

import os
import unittest

from ehlodtest import Ehlod, EhlodTestCase, main


class CheckUserTest(EhlodTestCase):

    @unittest.skipUnless(os.geteuid() == 0, "only root switches users")
    def test_unknown_user_exit_1(self):
        server = Ehlod(start=False, user="no-such-user-ehlod")
        try:
            code, out = server.check()
            self.assertEqual(code, 1, out)
            self.assertIn(server.conf_path, out)
            self.assertIn("user 'no-such-user-ehlod' does not exist", out)
        finally:
            server.cleanup()

    def test_existing_user_exit_0(self):
        server = Ehlod(start=False, user="nobody")
        try:
            code, out = server.check()
            self.assertEqual(code, 0, out)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
